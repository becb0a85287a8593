"""The comparison command: writes the CSV, is deterministic, and exits non-zero on a mismatch."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from comparisons import cli, registry
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
    assert df[df["kind"] == "network"]["case"].nunique() == len(registry.CASES)


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
