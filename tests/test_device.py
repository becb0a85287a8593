"""--device: the torch side on CUDA (float64, and float32 with TF32 off), a clear error
without it. The CUDA tests skip where there is no CUDA GPU, saying so."""

import pandas as pd
import pytest
import torch

from comparisons import cli
from comparisons.cases.registry import CASES
from comparisons.run.networks import run_case
from comparisons.run.rows import failures

NO_CUDA = "needs a CUDA GPU and a CUDA build of torch (torch.cuda.is_available() is False)"


def test_cuda_unavailable_is_a_clear_error_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path / "r"), "--device", "cuda"])
    assert "--device cuda" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_unknown_device_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path), "--device", "tpu"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_network_gradients_match_torch_on_cuda():
    for case in CASES:
        if case.activation in ("relu", "tanh", "softmax") and case.loss in ("cross_entropy",
                                                                            "mse"):
            rows = run_case(case, device="cuda")
            problems = failures(rows)
            assert rows and not problems, "\n".join(problems)
    assert not torch.backends.cuda.matmul.allow_tf32  # float32 stays float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_command_on_cuda_passes(tmp_path):
    assert cli.main(["--out", str(tmp_path), "--device", "cuda", "--only", "*relu-mse*",
                     "--jobs", "1", "--quiet"]) == 0
    assert pd.read_csv(tmp_path / "gradients.csv")["status"].eq("pass").all()
