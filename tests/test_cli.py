"""The comparison command: writes the CSV, is deterministic, and exits non-zero on a mismatch."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from comparisons import cli
from comparisons.cases import registry
from comparisons.cases.info import DTYPES
from manual import activations, losses

ROOT = Path(__file__).resolve().parents[1]


def test_cli_writes_csv_and_is_deterministic(tmp_path, capsys):
    assert cli.main(["--no-plots", "--out", str(tmp_path / "a"), "--only", "*-small-float*"]) == 0
    assert cli.main(["--no-plots", "--out", str(tmp_path / "b"), "--only", "*-small-float*"]) == 0
    first = (tmp_path / "a" / "gradients.csv").read_bytes()
    assert first == (tmp_path / "b" / "gradients.csv").read_bytes()
    df = pd.read_csv(tmp_path / "a" / "gradients.csv")
    assert list(df.columns) == cli.PARTS["gradients"].columns
    assert (df["status"] == "pass").all() and len(df) > 0
    assert set(df["oracle"]) == {"torch", "vjp", "fd", "taylor"}
    out = capsys.readouterr().out
    assert "0 failed" in out and "float64 vs torch" in out


def test_full_report_lists_skipped_pairs(tmp_path):
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--oracles", "torch",
                     "--parts", "gradients,components"]) == 0  # trajectories: test_trajectory_cli
    df = pd.read_csv(tmp_path / "gradients.csv")
    skipped = df[df["kind"] == "skipped"]
    assert len(skipped) == len(registry.SKIPPED) > 0
    assert skipped["note"].str.contains("needs predictions in").all()
    # the default report covers every activation, loss and architecture in each dtype,
    # with every oracle (comparisons.cases.selection), not the whole matrix
    net = df[df["kind"] == "network"]
    for column, names in (("activation", activations.names()), ("loss", losses.names()),
                          ("arch", registry.ARCHITECTURES)):
        for dtype in DTYPES:
            seen = set(net.loc[net["dtype"] == dtype, column])
            assert set(names) <= seen, (column, dtype, set(names) - seen)
    assert net["case"].nunique() < len(registry.CASES)


def test_only_selects_from_the_whole_table(tmp_path):
    """--only picks from every case, not from the default report's selection."""
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--parts", "gradients",
                     "--oracles", "torch", "--only", "*-mse-*"]) == 0
    df = pd.read_csv(tmp_path / "gradients.csv")
    expected = {c.id for c in registry.CASES if c.loss == "mse"}
    assert set(df.loc[df["kind"] == "network", "case"]) == expected


def test_cli_exits_nonzero_on_mismatch(tmp_path, monkeypatch, capsys):
    from manual.activations import Tanh

    monkeypatch.setattr(Tanh, "_derivative", lambda self, z: 1 - __import__("numpy").tanh(z))
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--only", "tanh-mse-small-float64"]) == 1
    out = capsys.readouterr().out
    assert "FAIL tanh-mse-small-float64 [torch] W2" in out
    df = pd.read_csv(tmp_path / "gradients.csv")
    assert (df["status"] == "fail").any()


def test_cli_rejects_unknown_oracle_and_empty_selection(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["--oracles", "magic", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        cli.main(["--only", "no-such-case", "--out", str(tmp_path)])


def test_python_dash_m_entry_point(tmp_path):
    out = subprocess.run([sys.executable, "-m", "comparisons", "--out", str(tmp_path),
                          "--only", "sigmoid-sse-classic321-*"], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "gradients.csv").exists()


def test_every_report_filters_failures_the_same_way(tmp_path, monkeypatch):
    """Every CSV has ``status`` (pass, fail, xfail, skipped) and ``err_over_tol``, and no
    column that is empty in every row it could have; ``df[df.status == "fail"]`` is the
    failures. A planted slip in each part shows up that way, and only there."""
    import numpy as np

    from manual.activations import Tanh
    from manual.optimizers import SGD

    monkeypatch.setattr(Tanh, "_derivative", lambda self, z: 1 - np.tanh(z))  # not squared
    real_update = SGD._update

    def slipped(self, p, g, state):  # the step 1e-4 too large
        real_update(self, p, g * (1 + 1e-4), state)

    monkeypatch.setattr(SGD, "_update", slipped)
    only = "tanh-mse-small-float64,tanh-float64,linear-float64,sgd-tanh-mse-float64"
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--only", only]) == 1
    expected_fail = {"gradients.csv": "tanh-mse-small-float64", "components.csv": "tanh-float64",
                     "layers.csv": "tanh-float64",  # the Tanh layer; linear-float64 passes
                     "trajectories.csv": "sgd-tanh-mse-float64",
                     "trajectory_runs.csv": "sgd-tanh-mse-float64"}
    for name in ("gradients.csv", "components.csv", "layers.csv", "trajectories.csv",
                 "trajectory_runs.csv"):
        df = pd.read_csv(tmp_path / name)
        assert {"status", "err_over_tol"} <= set(df.columns), name
        assert set(df["status"]) <= {"pass", "fail", "xfail", "skipped"}, name
        failed = df[df.status == "fail"]
        assert set(failed["case"]) == ({expected_fail[name]} if name in expected_fail
                                       else set()), name
        assert (pd.to_numeric(failed["err_over_tol"]) > 1).all(), name
        assert (pd.to_numeric(df.loc[df.status == "pass", "err_over_tol"]) <= 1).all(), name
    for part in cli.PARTS.values():  # the columns a part writes are those that apply to it
        assert "passed" not in part.columns and "status" in part.columns
