"""The trajectory part of backprop-compare: trajectories.csv, deterministic, a summary per
optimizer, exit status 1 on a mismatch, and the real-data runs only with scikit-learn."""

import numpy as np
import pandas as pd
import pytest

from comparisons import cli
from comparisons.cases.registry import TRAJECTORY_CASES
from comparisons.run.trajectories import TRAJECTORY_COLUMNS
from manual.optimizers import Adadelta


def test_trajectories_csv_is_written_and_deterministic(tmp_path, capsys):
    args = ["--only", "adadelta-*", "--parts", "trajectories"]
    assert cli.main(["--no-plots", "--out", str(tmp_path / "a"), *args]) == 0
    assert cli.main(["--no-plots", "--out", str(tmp_path / "b"), *args]) == 0
    first = (tmp_path / "a" / "trajectories.csv").read_bytes()
    assert first == (tmp_path / "b" / "trajectories.csv").read_bytes()
    assert not (tmp_path / "a" / "gradients.csv").exists()  # only the part asked for
    df = pd.read_csv(tmp_path / "a" / "trajectories.csv")
    assert list(df.columns) == [c for c in TRAJECTORY_COLUMNS if c != "passed"]
    runs = pd.read_csv(tmp_path / "a" / "trajectory_runs.csv")
    assert list(runs["case"]) == list(df["case"].unique())
    assert (runs["status"] == "pass").all()
    assert (runs["err_over_tol"] == df.groupby("case", sort=False)["err_over_tol"].max()
            .to_numpy()).all()
    n_cases = sum("adadelta" in c.id for c in TRAJECTORY_CASES)
    assert df["case"].nunique() == n_cases and (df["status"] == "pass").all()
    assert df.groupby("case")["step"].max().min() >= 200
    out = capsys.readouterr().out
    assert f"trajectories: {n_cases} training runs" in out and "0 failed" in out
    assert "adadelta  float64" in out and "| float32" in out


def test_a_broken_optimizer_fails_the_command_naming_case_step_and_parameter(tmp_path, capsys,
                                                                             monkeypatch):
    def eps_outside_the_roots(self, p, g, state):  # sqrt(u) + eps over sqrt(v) + eps
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        v *= self.rho
        v += (1 - self.rho) * g * g
        delta = (np.sqrt(u) + self.eps) / (np.sqrt(v) + self.eps) * g
        u *= self.rho
        u += (1 - self.rho) * delta * delta
        p += -self.lr * delta

    monkeypatch.setattr(Adadelta, "_update", eps_outside_the_roots)
    assert cli.main(["--no-plots", "--out", str(tmp_path),
                     "--only", "adadelta-tanh-mse-float64"]) == 1
    out = capsys.readouterr().out
    assert "FAIL adadelta-tanh-mse-float64: 200 of 200 steps beyond tolerance; first at step 1 " \
           "(epoch 1): W1;" in out
    df = pd.read_csv(tmp_path / "trajectories.csv")
    assert (df["status"] == "fail").all()
    run = pd.read_csv(tmp_path / "trajectory_runs.csv").iloc[0]
    assert run["status"] == "fail" and run["failed_steps"] == 200 and run["first_failed_step"] == 1
    assert run["err_over_tol"] > 1 and run["first_beyond_tolerance"].startswith("W1;")


def test_real_data_runs_need_scikit_learn(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "sklearn_available", lambda: False)
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--only", "radam-tanh-mse-float64",
                     "--parts", "trajectories"]) == 0
    assert "scikit-learn is not installed, so the 16 runs on iris, digits, breast_cancer and " \
           "diabetes were skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--no-plots", "--out", str(tmp_path), "--only", "*-iris-*"])
    assert "train on data sets bundled with scikit-learn, which is not installed" in \
        capsys.readouterr().err


def test_real_data_runs_are_included_with_scikit_learn(tmp_path):
    pytest.importorskip("sklearn")
    assert cli.main(["--no-plots", "--out", str(tmp_path),
                     "--only=*-iris-*", "--parts", "trajectories"]) == 0
    df = pd.read_csv(tmp_path / "trajectories.csv")
    assert set(df["dataset"]) == {"iris"} and df["case"].nunique() == 4


def test_unknown_part_is_rejected(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["--no-plots", "--out", str(tmp_path), "--parts", "gradients,plots"])
