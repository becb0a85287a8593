"""What people see: every command's --help, unknown flags, --out checks, case selection,
reports a run did not make, the agreement of the worst-element figures, and the pictures."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparisons import cli
from comparisons.bench import benchmark
from comparisons.core.compare import COMPARISON_COLUMNS, compare_arrays, describe
from comparisons.run.rows import ROW_COLUMNS
from comparisons.teaching import gallery, lessons
from comparisons.core.tolerances import Tolerance, tolerance_for
from manual.cli import latex_to_unicode, out_dir_problem, plain
from manual.lessons import LESSONS
from manual.lessons import __main__ as lessons_runner
from manual.lessons import network_321

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"

#: every command's main, as `python -m ...` runs it
COMMANDS = {
    "backprop-compare": cli.main,
    "comparisons.teaching.gallery": gallery.main,
    "comparisons.teaching.lessons": lessons.main,
    "comparisons.bench.benchmark": benchmark.main,
    "manual.lessons": lessons_runner.main,
    "manual.lessons.network_321": network_321.main,
}
#: the commands that take --out
WITH_OUT = ["backprop-compare", "comparisons.bench.benchmark", "manual.lessons",
            "manual.lessons.network_321"]


def _exit(main, argv) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code


# --------------------------------------------------------------------------------------
# help, unknown flags, --out
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_plain_text_with_defaults_and_exit_codes(name, capsys):
    assert _exit(COMMANDS[name], ["--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: ")
    for markup in ("``", ":func:", ":mod:", ":class:", ":math:", "\\frac", ".. math::"):
        assert markup not in text, f"{name} --help shows {markup!r}"
    if name != "comparisons.bench.benchmark":  # reworked on another branch: only argparse-clean
        assert "exit status:" in text and "  2  bad arguments" in text
    if name in WITH_OUT:
        assert "(default: " in text


@pytest.mark.parametrize("name", COMMANDS)
def test_unknown_flag_is_an_error(name, capsys):
    assert _exit(COMMANDS[name], ["--no-such-flag"]) == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


@pytest.mark.parametrize("name", WITH_OUT)
def test_out_on_a_file_is_a_one_line_error_before_any_work(name, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    # nothing may run: any case, lesson or workload reached would raise here
    monkeypatch.setattr(cli, "PARTS", {k: dataclasses.replace(p, run=_boom)
                                       for k, p in cli.PARTS.items()})
    monkeypatch.setattr(benchmark, "run_benchmark", _boom)
    monkeypatch.setattr(lessons_runner, "run_lesson", _boom)
    monkeypatch.setattr("manual.lessons._common.run_lesson", _boom)
    for out in (afile, afile / "sub"):
        assert _exit(COMMANDS[name], ["--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "is a file, not a folder" in err, err
    assert afile.read_text() == "keep"


def _boom(*args, **kwargs):
    raise AssertionError("work started before --out was checked")


def test_unwritable_out_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr("os.access", lambda path, mode: False)  # as for a non-root user
    assert "is not writable" in out_dir_problem(tmp_path / "new" / "reports")
    assert out_dir_problem.__module__ == "manual.cli"


# --------------------------------------------------------------------------------------
# --only and --list
# --------------------------------------------------------------------------------------
def _listed(capsys) -> list[tuple[str, str]]:
    """--list's lines as (part, id)."""
    return [tuple(line.split()) for line in capsys.readouterr().out.splitlines()]


def test_only_takes_exact_ids_patterns_and_lists(capsys):
    assert cli.main(["--list", "--only", "sigmoid-mse-*"]) == 0
    listed = _listed(capsys)
    assert listed and all(p == "gradients" and i.startswith("sigmoid-mse-")
                          for p, i in listed)  # no hard/logsigmoid
    assert cli.main(["--list", "--only", "sigmoid-mse-small-float64, tanh-float64,adam-*",
                     "--parts", "gradients,components,trajectories"]) == 0
    listed = _listed(capsys)
    assert listed[:2] == [("gradients", "sigmoid-mse-small-float64"),
                          ("components", "tanh-float64")]
    assert len(listed) > 3 and all(p == "trajectories" and i.startswith("adam-")
                                   for p, i in listed[2:])
    assert cli.main(["--list", "--only", "sigmoid-mse-small-float64"]) == 0
    assert _listed(capsys) == [("gradients", "sigmoid-mse-small-float64")]


def test_list_labels_every_line_with_its_part(capsys):
    """relu-float64 is a component case and a layer case: each line says which."""
    assert cli.main(["--list"]) == 0
    listed = _listed(capsys)
    assert len(set(listed)) == len(listed)
    assert {("components", "relu-float64"), ("layers", "relu-float64")} <= set(listed)


def test_a_pattern_that_matches_nothing_lists_the_closest_ids(capsys):
    assert _exit(cli.main, ["--list", "--only", "sigmoid-mse-smal-float64"]) == 2
    err = capsys.readouterr().err
    assert "'sigmoid-mse-smal-float64' matches no case id" in err
    assert "sigmoid-mse-small-float64" in err
    assert _exit(cli.main, ["--list", "--only", "sigmoid-mse"]) == 2  # a fragment: a hint
    assert "select them with the pattern '*sigmoid-mse*'" in capsys.readouterr().err
    assert _exit(gallery.main, ["--only", "tanh"]) == 2
    assert "tanh-derivative-not-squared" in capsys.readouterr().err
    assert _exit(lessons_runner.main, ["--only", "network321"]) == 2
    assert "network_321" in capsys.readouterr().err


def test_list_runs_nothing_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "write_csv", _boom)
    assert cli.main(["--list", "--out", str(tmp_path / "r"), "--only", "*classic321*"]) == 0
    assert len(_listed(capsys)) >= 2 and not (tmp_path / "r").exists()
    assert gallery.main(["--list"]) == 0
    assert capsys.readouterr().out.split() == [s.id for s in gallery.GALLERY]
    assert lessons_runner.main(["--list", "--only", "*gradient*"]) == 0
    assert capsys.readouterr().out.split() == [n for n in LESSONS if "gradient" in n]


# --------------------------------------------------------------------------------------
# reports a run did not make stay as they were; the pictures; matplotlib optional
# --------------------------------------------------------------------------------------
def test_reports_a_run_did_not_make_are_left_untouched(tmp_path, capsys):
    for name in ("gradients.csv", "trajectories.csv", "summary.png"):
        (tmp_path / name).write_text(f"an earlier full {name}\n")
    assert cli.main(["--no-plots", "--out", str(tmp_path), "--only", "sigmoid-float64"]) == 0
    out = capsys.readouterr().out
    for name in ("gradients.csv", "trajectories.csv", "summary.png"):
        assert (tmp_path / name).read_text() == f"an earlier full {name}\n", name
    assert f"gradients: no case selected; {tmp_path / 'gradients.csv'} left as it was" in out
    comp = pd.read_csv(tmp_path / "components.csv")
    assert list(comp.columns) == cli.PARTS["components"].columns
    assert set(comp["case"]) == {"sigmoid-float64"}


def test_every_picture_is_written(tmp_path, capsys):
    only = "sigmoid-sse-classic321-float64,sigmoid-float32,radam-tanh-mse-float32"
    assert cli.main(["--out", str(tmp_path), "--only", only, "--plots"]) == 0
    for name in ("summary.png", "heatmap.png", "errors.png", "trajectories.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG and len(data) > 10_000, name
    assert "pictures: wrote" in capsys.readouterr().out


def test_without_matplotlib_the_csvs_are_written_and_one_line_says_how(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr("manual.lessons._common.matplotlib_available", lambda: False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # any import of it would fail
    assert cli.main(["--out", str(tmp_path), "--only", "sigmoid-float64"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "components.csv").exists() and not (tmp_path / "summary.png").exists()
    hint = [line for line in out.splitlines() if line.startswith("pictures")]
    assert hint == [cli.PLOTS_HINT] and "[plots]" in hint[0]


# --------------------------------------------------------------------------------------
# error figures that agree with each other
# --------------------------------------------------------------------------------------
def test_the_worst_element_is_the_one_furthest_beyond_tolerance_with_its_own_errors():
    """Element 0 has the largest absolute error but is well within its tolerance (large
    reference); element 1 has a smaller error on a tiny reference and fails: the row names
    element 1 with ITS errors, and reports the maxima over the array apart."""
    tol = Tolerance(rtol=1e-6, atol=1e-8)
    expected = np.array([1000.0, 1e-3, 0.0])
    actual = np.array([1000.0 + 1e-4, 1e-3 + 1e-5, 1e-9])
    c = compare_arrays(actual, expected, tol, "W")
    assert not c.passed and c.n_bad == 1 and c.worst_index == (1,)
    assert (c.manual_value, c.reference_value) == (actual[1], expected[1])
    err = abs(actual - expected)
    assert c.worst_abs_err == err[1] < c.max_abs_err == err[0]
    assert c.worst_rel_err == err[1] / expected[1]
    assert c.max_rel_err == c.worst_rel_err  # the zero reference has no relative error
    assert c.err_over_tol == err[1] / (tol.atol + tol.rtol * expected[1]) > 1
    msg = describe({"case": "demo", "oracle": "torch", **c.row()})
    assert f"worst element (1,) (error {c.err_over_tol:.3g} x its tolerance)" in msg
    assert f"abs err {err[1]:.3e}, rel err {err[1] / 1e-3:.3e}" in msg
    assert f"over all elements max abs err {err[0]:.3e}" in msg
    assert list(c.row()) == COMPARISON_COLUMNS
    assert all(col in ROW_COLUMNS for col in COMPARISON_COLUMNS)


def test_no_relative_error_where_the_reference_is_zero(tmp_path):
    c = compare_arrays(np.array([1e-9, 0.0]), np.array([0.0, 0.0]),
                       tolerance_for(np.float64, "fd"), "b1")
    assert c.passed and c.worst_index == (0,) and np.isnan(c.worst_rel_err)
    assert np.isnan(c.max_rel_err)
    assert "rel err n/a" in c.message() and "max rel err n/a" in c.message()
    path = tmp_path / "r.csv"
    cli.write_csv(pd.DataFrame([c.row()]), path)
    row = pd.read_csv(path, keep_default_na=False).iloc[0]
    assert row["worst_rel_err"] == "" and row["max_rel_err"] == ""
    assert "n/a" in describe(pd.read_csv(path).iloc[0].to_dict())


def test_trajectory_rows_report_the_worst_element_with_its_own_errors():
    from comparisons.run.trajectories import _errors

    ref = np.array([[1000.0, 1e-3, 0.0]])
    err = _errors(ref + np.array([[1e-4, 1e-5, 0.0]]), ref, Tolerance(1e-6, 1e-8))
    assert err["arg"][0] == 1 and err["excess"][0] > 1
    assert err["worst_abs"][0] == pytest.approx(1e-5) and err["abs"][0] == pytest.approx(1e-4)
    assert err["worst_rel"][0] == pytest.approx(1e-2) and err["rel"][0] == pytest.approx(1e-2)


def test_the_printed_summary_names_the_deciding_ratio_and_where_each_worst_occurs(capsys):
    rows = pd.DataFrame([
        {"dtype": "float64", "oracle": "torch", "case": "a", "parameter": "W1",
         "err_over_tol": 0.5, "max_abs_err": 1e-13, "max_rel_err": float("nan")},
        {"dtype": "float64", "oracle": "torch", "case": "b", "parameter": "b2",
         "err_over_tol": 0.01, "max_abs_err": 3e-13, "max_rel_err": 2e-3}])
    cli.print_worst(rows)
    out = capsys.readouterr().out
    assert "passes when <= 1; decides" in out
    assert "float64 vs torch" in out and "error/tol 5.00e-01 (a W1)" in out
    assert "abs 3.00e-13 (b b2)" in out and "rel 2.00e-03 (b b2)" in out


# --------------------------------------------------------------------------------------
# console text, the teaching package, the lessons' tolerance
# --------------------------------------------------------------------------------------
def test_console_math_is_unicode():
    assert latex_to_unicode(r"\frac{\partial J}{\partial w_{14}}") == "∂J/∂w₁₄"
    assert latex_to_unicode(r"J = \tfrac12 \sum_n (y_n - h(x_n))^2") == "J = ½ Σₙ (yₙ - h(xₙ))²"
    text = plain(network_321.__doc__)
    assert "∂J/∂w₁₄ = Σ (h - y) σ'(q) w₄₆ σ'(p) x₁" in text
    assert not any(m in text for m in ("\\", "``", ":math:", ":func:", ":data:"))


def test_lesson_output_is_plain_text(capsys):
    from manual.lessons._common import _question_and_answer

    for name in LESSONS:
        text = _question_and_answer(__import__(f"manual.lessons.{name}", fromlist=["x"]))
        assert not any(m in text for m in ("\\frac", "\\partial", "``", ":math:", ":func:")), name


def test_one_check_per_lesson_and_the_gallery_runs_as_a_module():
    assert list(lessons.LESSON_CHECKS) == list(LESSONS)
    out = subprocess.run([sys.executable, "-m", "comparisons.teaching.gallery", "--list"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.split() == [s.id for s in gallery.GALLERY]


def test_the_lesson_draws_the_harness_finite_difference_tolerance():
    tol = tolerance_for(np.float64, "fd")
    assert network_321.FD_TOLERANCE == (tol.rtol, tol.atol)
