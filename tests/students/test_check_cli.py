"""``backprop-compare check``: a CS231n-style layer file checked against torch, written to
check.csv and Gradescope's results.json; a buggy file's slips named; a file that cannot
be imported reported, never a crash."""

import json
from pathlib import Path

import pandas as pd
import pytest

from comparisons import cli
from comparisons.check.cli import SPECS
from comparisons.check.cli import CHECK_COLUMNS

HERE = Path(__file__).resolve().parent


def run(tmp_path, student, *extra):
    """``backprop-compare check`` through the main command; its exit code and results."""
    code = cli.main(["check", str(student), "--out", str(tmp_path), "--format", "gradescope",
                     *extra])
    tests = json.loads((tmp_path / "results.json").read_text())["tests"]
    return code, pd.read_csv(tmp_path / "check.csv"), {t["name"]: t for t in tests}


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    """The correct file, checked once: exit code, check.csv, results.json, printed table."""
    out = tmp_path_factory.mktemp("correct")
    code, df, tests = run(out, HERE / "layers.py")
    return out, code, df, tests


def test_a_correct_layer_file_passes(correct):
    _, code, df, tests = correct
    assert code == 0
    assert list(df.columns) == CHECK_COLUMNS
    # every spec whose functions the file defines (it has no tanh_forward, and no
    # linear_forward: that is Andrew Ng's course's)
    assert set(tests) == {s.name for s in SPECS} - {"tanh", "linear"}
    assert all(t["score"] == t["max_score"] == 1.0 and t["status"] == "passed"
               for t in tests.values())
    assert set(df["status"]) == {"pass"}
    assert set(df.loc[df["kind"] == "layer", "oracle"]) == {"torch", "fd"}
    assert set(df.loc[df["kind"] == "loss", "oracle"]) == {"torch", "fd", "taylor"}
    assert set(df.loc[df["case"] == "conv_naive", "parameter"]) == {"out", "x", "w", "b"}
    assert set(df.loc[df["case"] == "lstm_step", "parameter"]) == {
        "out[0]", "out[1]", "x", "prev_h", "prev_c", "Wx", "Wh", "b"}
    # dropout in train mode: finite differences only, and the row says why
    train = df[df["case"] == "dropout_train_mode"]
    assert set(train["oracle"]) == {"fd"} and train["note"].str.contains("cannot replay").all()


def test_the_report_is_deterministic(correct, tmp_path, capsys):
    out, *_ = correct
    assert cli.main(["check", str(HERE / "layers.py"), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "check.csv").read_bytes() == (out / "check.csv").read_bytes()
    assert not (tmp_path / "results.json").exists()  # only with --format gradescope
    n = len(SPECS) - 2
    assert f"{n} of {n} passed; wrote check.csv to" in capsys.readouterr().out


def test_a_buggy_layer_file_fails_naming_each_slip(tmp_path):
    code, df, tests = run(tmp_path, HERE / "layers_buggy.py")
    assert code == 1
    failed = {name for name, t in tests.items() if t["score"] == 0}
    assert failed == {"affine", "relu", "softmax_loss", "svm_loss", "batchnorm",
                      "dropout_train_mode", "conv_naive", "rnn_step"}
    out = {name: t["output"] for name, t in tests.items()}
    assert out["affine"] == ("affine [student] signature: affine_forward(x, w) cannot be "
                             "called as affine_forward(x, w, b)")
    assert out["relu"].startswith("relu [student] x: relu_forward(x) changed its input x in "
                                  "place")
    assert out["softmax_loss"].startswith("softmax_loss [student] loss: softmax_loss(x, y) "
                                          "raised ValueError: operands could not be broadcast")
    assert "random (dropout without a fixed seed?)" in out["dropout_train_mode"]
    # the slip diagnosis names each: the svm's mean over the 4 examples forgotten, the naive
    # convolution's dw = (for +=) in its loop over output positions, the batch norm's
    # missing paths, the rnn's tanh' = 1 - tanh (through torch's fused rnn_tanh_cell)
    slips = {(r.case, r.oracle, r.parameter): r.note for r in df.itertuples()
             if "likely slip" in str(r.note)}
    named = {"svm_loss": "your dx is 4 times the true gradient",
             "conv_naive": "your dw is the share of the last output position only",
             "batchnorm": "your dx is the gradient with the normalisation's mean and variance "
                          "held constant",
             "rnn_step": "tanh's derivative written as 1 - tanh(z), not squared"}
    assert {k[0] for k in slips} == set(named)
    assert all(named[k[0]] in v for k, v in slips.items()), slips

    def failing(case):
        return set(df.loc[(df["case"] == case) & (df["status"] == "fail"),
                          ["oracle", "parameter"]].itertuples(index=False, name=None))

    assert failing("svm_loss") == {("torch", "x"), ("fd", "x"), ("taylor", "x")}
    assert failing("batchnorm") == {("torch", "x"), ("fd", "x")}  # dgamma, dbeta right
    assert failing("conv_naive") == {("torch", "w"), ("fd", "w")}
    assert failing("rnn_step") == {(o, p) for o in ("torch", "fd")
                                   for p in ("x", "prev_h", "Wx", "Wh", "b")}
    # check.csv filters as every report does: status and err_over_tol, no empty column
    assert set(df["status"]) <= {"pass", "fail", "xfail", "skipped"}
    assert set(df.loc[df.status == "fail", "case"]) == failed
    assert "passed" not in df.columns and not [c for c in df if df[c].isna().all()]


@pytest.mark.parametrize("source, message", [
    ("def relu_forward(x)\n    return x\n", "bad.py has a syntax error at line 1: expected ':'"),
    ("import numpy as np\nW = np.ones(3) @ np.ones(4)\n",
     "importing bad.py raised ValueError: matmul: Input operand 1 has a mismatch"),
    ("import sys\nsys.exit(3)\n", "importing bad.py raised SystemExit: 3 (line 2)"),
    ("import numpy as np\n", "bad.py defines none of the functions checked: affine_forward"),
])
def test_a_file_that_cannot_be_checked_is_reported(tmp_path, source, message):
    (tmp_path / "bad.py").write_text(source)
    code, df, tests = run(tmp_path, tmp_path / "bad.py")
    assert code == (2 if "defines none" in message else 1)  # 2: nothing to check
    (test,) = tests.values()
    assert test["score"] == 0 and test["output"].split(": ", 1)[1].startswith(message)
    assert len(df) == 1 and df["status"][0] == "fail"


def test_bad_arguments_exit_2(tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["check", str(HERE / "layers.py"), "--format", "pdf"])
    assert e.value.code == 2


def test_a_missing_backward_fails_with_exit_2_never_a_pass(tmp_path, capsys):
    code, df, tests = run(tmp_path, HERE / "layers_no_relu_backward.py")
    assert code == 2
    assert tests["relu"]["score"] == 0 and tests["relu"]["status"] == "failed"
    assert tests["relu"]["output"].startswith(
        "relu [student] relu_backward: relu_backward not found: relu_forward has no backward")
    assert tests["affine"]["score"] == 1.0  # the rest is still checked and scored
    relu = df[df["case"] == "relu"]
    assert set(relu.loc[relu["status"] == "fail", "parameter"]) == {"relu_backward"}
    assert "err_over_tol" in df.columns and set(df["status"]) == {"pass", "fail"}
    out, err = capsys.readouterr()
    assert "relu                     FAIL" in out and "relu_backward not found" in err


def test_map_checks_a_course_whose_helpers_have_other_names(tmp_path):
    """Andrew Ng's sigmoid(Z), relu(Z) -> (A, cache), with sigmoid_backward, relu_backward,
    linear_forward and linear_backward found by their own names: an ok run exits 0."""
    code, df, tests = run(tmp_path, HERE / "deep_nn.py", "--map", "sigmoid=sigmoid_forward",
                          "--map", "relu=relu")
    assert code == 0
    assert set(tests) == {"relu", "sigmoid", "linear"}
    assert all(t["score"] == 1.0 for t in tests.values())
    assert set(df.loc[df["case"] == "linear", "parameter"]) == {"out", "A", "W", "b"}


@pytest.mark.parametrize("extra, message", [
    ((), "deep_nn.py defines none of the functions checked"),  # sigmoid, relu: not our names
    (("--map", "my_relu=relu_forward"), "--map my_relu=relu_forward: deep_nn.py defines no "
                                        "function my_relu"),
])
def test_a_missing_function_fails_with_exit_2(tmp_path, extra, message):
    (tmp_path / "deep_nn.py").write_text((HERE / "deep_nn.py").read_text().replace(
        "def linear_forward", "def ng_linear_forward"))
    code, df, tests = run(tmp_path, tmp_path / "deep_nn.py", *extra)
    assert code == 2
    failed = [t for t in tests.values() if t["score"] == 0]
    assert any(message in t["output"] for t in failed)
    assert (df["status"] == "fail").any()


def test_a_file_that_does_not_exist_is_exit_2_with_its_row(tmp_path):
    code, df, tests = run(tmp_path, tmp_path / "nowhere.py")
    assert code == 2
    (test,) = tests.values()
    assert test["score"] == 0 and test["output"].endswith("nowhere.py: no such file")
    assert list(df["status"]) == ["fail"]


@pytest.mark.parametrize("bad", ["relu", "relu=nothing_forward", "=relu_forward"])
def test_a_malformed_map_is_a_usage_error(tmp_path, bad):
    with pytest.raises(SystemExit) as e:
        cli.main(["check", str(HERE / "deep_nn.py"), "--out", str(tmp_path), "--map", bad])
    assert e.value.code == 2
