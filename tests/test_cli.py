"""The comparison command: writes the CSV, is deterministic, and exits non-zero on a mismatch."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from comparisons import cli, registry
from manual import activations, losses
from comparisons.runner import ROW_COLUMNS

ROOT = Path(__file__).resolve().parents[1]


def test_cli_writes_csv_and_is_deterministic(tmp_path, capsys):
    assert cli.main(["--no-plots", "--out", str(tmp_path / "a"), "--only", "*-small-float*"]) == 0
    assert cli.main(["--no-plots", "--out", str(tmp_path / "b"), "--only", "*-small-float*"]) == 0
    first = (tmp_path / "a" / "gradients.csv").read_bytes()
    assert first == (tmp_path / "b" / "gradients.csv").read_bytes()
    df = pd.read_csv(tmp_path / "a" / "gradients.csv")
    assert list(df.columns) == ROW_COLUMNS
    assert df["passed"].all() and len(df) > 0
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
    # with every oracle (comparisons.selection), not the whole matrix
    net = df[df["kind"] == "network"]
    for column, names in (("activation", activations.names()), ("loss", losses.names()),
                          ("arch", registry.ARCHITECTURES)):
        for dtype in registry.DTYPES:
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
    assert not df["passed"].all()


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
