"""backprop-compare: run the registry's cases against torch and the torch-free oracles, write
the CSV reports and a summary picture, print a summary.

By default the report covers every family once in each dtype, with every oracle: each
activation, loss and architecture of the gradient matrix, every activation and loss case,
each layer (in each mode and input kind) and each layer inside a network, each optimizer,
schedule, data set and whole model of the training runs (comparisons.cases.selection).
--exhaustive runs every case of the table; --only picks from every case. The output
folder gets

  gradients.csv     one row per network case x parameter x oracle (torch, vjp, fd, taylor),
                    plus one row per skipped activation-loss pair of the matrix
  components.csv    each activation and loss on its own, one row per case x quantity
  layers.csv        single layers (manual.layers) against their torch.nn modules, and
                    Sequential networks with a loss, one row per case x quantity x oracle
  controls.csv      the layers' negative controls: a deliberately broken layer must fail
                    exactly the rows its record names (status xfail, control_verdict
                    caught; fail and missed if it passes one) and the correct layer the
                    same case (pass)
  trajectories.csv  training runs, manual optimizers against torch.optim, one row per step
                    (the real-data runs and whole models only when scikit-learn is
                    installed)
  trajectory_runs.csv  one row per training run: its verdict, deciding step and quantity
  summary.png       the worst error/tolerance per activation x loss, every row's error
                    against its tolerance line, and the trajectories' error per step
                    (needs matplotlib, the 'plots' extra; --plots writes each panel large)

A report is written only by a run that made it: a selection that leaves a part empty
leaves that part's CSV as it was.

Select cases with --only: exact ids, shell-style patterns or a comma-separated list of
either, e.g. --only 'sigmoid-mse-*'  or  --only 'tanh-mse-small-float64,*adam*'.
--list prints the selected ids without running anything.

Every CSV has a status column (pass, fail, xfail: a documented deviation, skipped) and
err_over_tol: the error of the worst element (the one furthest beyond its tolerance)
divided by that element's tolerance atol + rtol*|reference|; a row passes when it is <= 1.
In pandas, df[df.status == "fail"] lists the failures of any report (in controls.csv a
slip's row it must fail is xfail when caught, fail when missed).

backprop-compare check STUDENT.py checks a student's CS231n-style layer file instead
(backprop-compare check --help).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from comparisons.cases import catalog
from comparisons.cases.info import NETWORK_ORACLES, NetworkCase
from comparisons.cases.registry import (
    CASES,
    COMPONENT_CASES,
    REAL_DATA_CASES,
    SKIPPED,
    TRAJECTORY_CASES,
)
from comparisons.cases.selection import core
from manual.cli import (
    HelpFormatter,
    exit_codes,
    fail,
    out_dir_problem,
    select_ids,
    selection_error,
    tokens,
    unmatched,
)
from comparisons.core.compare import describe
from comparisons.core.device import DEVICES, check_device
from comparisons.core.parallel import auto_jobs, available_cpus, run_ordered
from comparisons.core.progress import add_quiet_argument
from comparisons.core.tolerances import TAYLOR_MIN_SLOPE
from comparisons.run.components import run_component
from comparisons.run.controls import CONTROL_COLUMNS, control_failures, control_rows
from comparisons.run.layers import run_layer_case, run_network_case
from comparisons.run.model_trajectories import (
    MODEL_TRAJECTORY_CASES,
    ModelTrajectoryCase,
    run_model_trajectory,
)
from comparisons.run.networks import run_case, skipped_rows
from comparisons.run.rows import ROW_COLUMNS
from comparisons.run.trajectories import (
    TRAJECTORY_COLUMNS,
    run_trajectory,
    trajectory_failures,
    trajectory_runs,
    trajectory_summary,
)
from manual.datasets import sklearn_available

__all__ = ["PARTS", "Part", "main", "select_ids", "write_csv"]

#: the exit codes of backprop-compare
EXIT_CODES = exit_codes()

PLOTS_HINT = ("pictures skipped: matplotlib is not installed "
              "(pip install 'backprop-reference-suite[plots]' to get summary.png)")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a report deterministically: fixed column order, exact floats, no index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")  # floats as shortest round-trip repr


# --------------------------------------------------------------------------------------
# the parts of the report: one entry per CSV
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One report: its name (for --parts), its CSV, its cases (each with an ``id``; a
    function of the parsed arguments, for --exhaustive), the function that runs the
    selected ones into a DataFrame, the one that turns the frame into failure lines, and
    the one that prints its summary."""

    name: str
    csv: str
    cases: Callable[[argparse.Namespace], list]
    run: Callable[[list, argparse.Namespace], pd.DataFrame]
    failures: Callable[[pd.DataFrame], list[str]]
    summary: Callable[[pd.DataFrame, list, argparse.Namespace], None]
    #: the CSV's columns, in order: the run's columns less those that never mean anything
    #: in this report (and less ``passed``: every report filters on ``status``)
    columns: list[str]
    #: further CSVs made from the part's frame: file name -> function of the frame
    extra: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = field(default_factory=dict)


def _row_failures(df: pd.DataFrame) -> list[str]:
    return [describe(r) for r in df[df["status"].isin(["fail", "xpass"])].to_dict("records")]


def _n(value: Any) -> float:
    return float("nan") if value is None or value == "" else float(value)


def print_worst(df: pd.DataFrame, indent: str = "  ") -> None:
    """Per dtype and oracle: the worst err_over_tol (the figure that decides pass or fail),
    the worst absolute and relative errors, and the case and parameter of each."""
    rows = df[df["err_over_tol"].notna() & (df["oracle"] != "taylor")]
    if rows.empty:
        return
    print(f"{indent}worst per dtype and oracle: error/tolerance (passes when <= 1; decides), "
          f"abs err, rel err (n/a: reference 0), each with its case and parameter")

    def where(r: pd.Series) -> str:
        return f"{r['case']} {r['parameter']}"

    for (dtype, oracle), g in rows.groupby(["dtype", "oracle"], sort=True):
        ratio = g.loc[pd.to_numeric(g["err_over_tol"]).idxmax()]
        ab = g.loc[pd.to_numeric(g["max_abs_err"]).idxmax()]
        rel = pd.to_numeric(g["max_rel_err"])
        text = (f"{indent}  {dtype} vs {oracle:12s} error/tol {_n(ratio['err_over_tol']):.2e} "
                f"({where(ratio)}); abs {_n(ab['max_abs_err']):.2e} ({where(ab)}); ")
        if rel.notna().any():
            r = g.loc[rel.idxmax()]
            text += f"rel {_n(r['max_rel_err']):.2e} ({where(r)})"
        else:
            text += "rel n/a"
        print(text)


def _run_gradients(cases: list, args: argparse.Namespace) -> pd.DataFrame:
    # as runner.run_cases, in worker processes (comparisons.core.parallel): the same rows
    results = run_ordered(partial(run_case, oracles=args.oracle_list, device=args.device),
                          cases, _n_jobs(args, cases), desc="gradients", quiet=args.quiet,
                          start_method=_start_method(args))
    rows = [row for case_rows in results for row in case_rows]
    rows += [] if args.only else skipped_rows()
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def _run_components(cases: list, args: argparse.Namespace) -> pd.DataFrame:
    # as runner.run_components, in worker processes
    results = run_ordered(partial(run_component, device=args.device), cases,
                          _n_jobs(args, cases), desc="components", quiet=args.quiet,
                          start_method=_start_method(args))
    return pd.DataFrame([row for rows in results for row in rows], columns=ROW_COLUMNS)


def _gradients_summary(df: pd.DataFrame, cases: list, args: argparse.Namespace) -> None:
    checked = df[df["kind"] == "network"]
    failed = checked[checked["status"].isin(["fail", "xpass"])]
    print(f"gradients: {len(cases)} cases, {len(checked)} comparisons "
          f"(cases x parameters x oracles), {len(checked) - len(failed)} passed, "
          f"{len(failed)} failed" + ("" if args.only else f"; {len(SKIPPED)} activation-loss "
                                     f"pairs skipped (reasons in the CSV)"))
    print_worst(checked)
    slopes = checked.loc[checked["oracle"] == "taylor", "taylor_slope"]
    if len(slopes):
        curved = slopes[slopes >= TAYLOR_MIN_SLOPE]
        if len(curved):
            print(f"  Taylor remainder: {len(curved)} rows fall like eps^2 (slope min "
                  f"{curved.min():.3f}, median {curved.median():.3f}); ", end="")
        else:
            print("  Taylor remainder: ", end="")
        print(f"{len(slopes) - len(curved)} directions where L is (piecewise) linear, "
              f"first-order residual within tolerance")


def _components_summary(df: pd.DataFrame, cases: list, args: argparse.Namespace) -> None:
    failed = df[df["status"].isin(["fail", "xpass"])]
    n_xfail = int((df["status"] == "xfail").sum())
    print(f"components: {len(cases)} activation/loss cases, {len(df)} comparisons, "
          f"{(df['status'] == 'pass').sum()} passed, {len(failed)} failed, {n_xfail} "
          f"documented deviations from torch (xfail, reasons in the CSV)")
    print_worst(df[df["status"] != "xfail"])


def _wanted(cases: list, args: argparse.Namespace) -> list:
    """Without --exhaustive, the cases not marked exhaustive."""
    return [c for c in cases if args.exhaustive or not getattr(c, "exhaustive", False)]


def _layer_cases(args: argparse.Namespace) -> list:
    # read from the records on every call: a record added to catalog.LAYER_INFOS shows here
    return _wanted(catalog.layer_cases() + catalog.network_cases(), args)


def _layer_item(case: Any, oracles: Sequence[str]) -> list[dict[str, Any]]:
    """One layer or network case's rows (each case seeds torch itself: comparisons.run.layers)."""
    if isinstance(case, NetworkCase):
        return run_network_case(case, oracles)
    return run_layer_case(case, oracles)


def _run_layers(cases: list, args: argparse.Namespace) -> pd.DataFrame:
    # as layers.run_layer_cases, in worker processes: single layers first, then networks
    ordered = ([c for c in cases if not isinstance(c, NetworkCase)]
               + [c for c in cases if isinstance(c, NetworkCase)])
    results = run_ordered(partial(_layer_item, oracles=args.oracle_list), ordered,
                          _n_jobs(args, ordered), desc="layers", quiet=args.quiet,
                          start_method=_start_method(args))
    return pd.DataFrame([row for rows in results for row in rows], columns=ROW_COLUMNS)


def _layers_summary(df: pd.DataFrame, cases: list, args: argparse.Namespace) -> None:
    failed = df[df["status"].isin(["fail", "xpass"])]
    n_xfail = int((df["status"] == "xfail").sum())
    n_net = sum(isinstance(c, NetworkCase) for c in cases)
    print(f"layers: {len(cases) - n_net} layer cases and {n_net} networks, {len(df)} "
          f"comparisons, {(df['status'] == 'pass').sum()} passed, {len(failed)} failed, "
          f"{n_xfail} documented deviations (xfail)")
    print_worst(df[df["status"] != "xfail"])


def _control_cases(args: argparse.Namespace) -> list:
    return catalog.layer_controls()


def _run_controls(controls: list, args: argparse.Namespace) -> pd.DataFrame:
    results = run_ordered(control_rows, controls, _n_jobs(args, controls), desc="controls",
                          quiet=args.quiet, start_method=_start_method(args))
    return pd.DataFrame([row for rows in results for row in rows],
                        columns=CONTROL_COLUMNS + ROW_COLUMNS)


def _controls_failures(df: pd.DataFrame) -> list[str]:
    return control_failures(df.to_dict("records"))


def _controls_summary(df: pd.DataFrame, controls: list, args: argparse.Namespace) -> None:
    broken = df[df["side"] == "broken"]
    correct = df[df["side"] == "correct"]
    n_caught = int((broken["control_verdict"] == "caught").sum())
    n_missed = int((broken["control_verdict"] == "missed").sum())
    n_bad = int(((broken["status"] == "fail") & (broken["control_verdict"] != "missed")).sum())
    caught = sum(not bool((g["status"] == "fail").any()) for _, g in broken.groupby("control"))
    correct_ok = sum(not bool(g["status"].isin(["fail", "xpass"]).any())
                     for _, g in correct.groupby("control"))
    print(f"controls: {len(controls)} negative controls, {caught} caught exactly where "
          f"expected ({n_caught} rows caught, {n_missed} missed, {n_bad} failing outside "
          f"the slip's rows); {correct_ok} correct counterparts pass")


def _trajectory_summary(df: pd.DataFrame, cases: list, args: argparse.Namespace) -> None:
    failures = trajectory_failures(df)
    n_cases = df["case"].nunique()
    print(f"trajectories: {n_cases} training runs, {len(df)} steps compared with torch.optim, "
          f"{n_cases - len(failures)} runs passed, {len(failures)} failed")
    if len(df):
        summary = trajectory_summary(df)
        print("  worst per optimizer: error/tol of any parameter element at any step (decides: "
              "<= 1 passes) and, float64, the max rel err (large only where torch's value is "
              "near 0, within atol) | float32 max abs err by step 1/50/100/200/last")
        for opt, group in summary.groupby("optimizer", sort=False):
            cells = {r["dtype"]: r for r in group.to_dict("records")}
            f64 = cells.get("float64")
            f32 = cells.get("float32")
            text = f"    {opt:9s}"
            if f64:
                text += (f" float64 error/tol {f64['err_over_tol']:.1e} "
                         f"({f64['err_over_tol_case']}), max rel err {f64['max_rel_err']:.1e}")
            if f32:
                text += f" | float32 error/tol {f32['err_over_tol']:.1e}"
                growth = "/".join(f"{f32[c]:.1e}" for c in ("abs_err_step_1", "abs_err_step_50",
                                                             "abs_err_step_100", "abs_err_step_200",
                                                             "abs_err_last"))
                text += f", abs err {growth}"
            print(text)
    if not args.real_data:
        print(f"  real data: scikit-learn is not installed, so the {len(REAL_DATA_CASES)} runs "
              f"on iris, digits, breast_cancer and diabetes were skipped "
              f"(pip install 'backprop-reference-suite[data]')")


def _trajectory_cases(args: argparse.Namespace) -> list:
    if not sklearn_available():
        return _wanted(TRAJECTORY_CASES, args)
    # whole models (a CNN with batch norm and dropout) train on digits, from scikit-learn
    return _wanted(TRAJECTORY_CASES + REAL_DATA_CASES + MODEL_TRAJECTORY_CASES, args)


def _trajectory_item(case: Any, device: str) -> pd.DataFrame:
    """One training run's rows: a whole model (seeded itself) or a registry run."""
    if isinstance(case, ModelTrajectoryCase):
        return run_model_trajectory(case)
    return run_trajectory(case, device=device)


def _run_trajectories(cases: list, args: argparse.Namespace) -> pd.DataFrame:
    # as trajectories.run_trajectories, in worker processes
    frames = run_ordered(partial(_trajectory_item, device=args.device), cases,
                         _n_jobs(args, cases), desc="trajectories", quiet=args.quiet,
                         start_method=_start_method(args))
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=TRAJECTORY_COLUMNS))


def _columns(columns: list[str], *dropped: str) -> list[str]:
    return [c for c in columns if c not in ("passed", *dropped)]


#: the report's parts, in run order (a new part is one more entry here)
PARTS: dict[str, Part] = {p.name: p for p in (
    Part("gradients", "gradients.csv", lambda args: _wanted(CASES, args), _run_gradients,
         _row_failures, _gradients_summary, _columns(ROW_COLUMNS)),
    Part("components", "components.csv", lambda args: list(COMPONENT_CASES),
         _run_components, _row_failures, _components_summary,
         # one activation or loss alone: no network, so no architecture, no divergence
         _columns(ROW_COLUMNS, "output_activation", "arch", "sizes", "taylor_slope",
                  "first_divergence")),
    Part("layers", "layers.csv", _layer_cases, _run_layers, _row_failures, _layers_summary,
         _columns(ROW_COLUMNS, "activation", "output_activation")),  # layers name their own
    Part("controls", "controls.csv", _control_cases, _run_controls, _controls_failures,
         _controls_summary, CONTROL_COLUMNS + _columns(ROW_COLUMNS, "activation",
                                                       "output_activation")),
    Part("trajectories", "trajectories.csv", _trajectory_cases, _run_trajectories,
         trajectory_failures, _trajectory_summary, _columns(TRAJECTORY_COLUMNS),
         {"trajectory_runs.csv": trajectory_runs}),  # one row per run beside the steps
)}


# --------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backprop-compare", description=__doc__,
                                formatter_class=HelpFormatter, epilog=EXIT_CODES)
    p.add_argument("--out", type=Path, default=Path("reports"), metavar="DIR",
                   help="folder for the CSV reports and summary.png")
    p.add_argument("--only", default="", metavar="IDS",
                   help="run only these cases: exact ids, shell-style patterns ('sigmoid-mse-*'), "
                        "comma-separated; empty: every case")
    p.add_argument("--list", action="store_true",
                   help="print the selected cases, one per line as 'part id', and exit "
                        "without running")
    p.add_argument("--oracles", default=",".join(NETWORK_ORACLES), metavar="LIST",
                   help=f"comma-separated network oracles, of {', '.join(NETWORK_ORACLES)}")
    p.add_argument("--parts", default=",".join(PARTS), metavar="LIST",
                   help=f"comma-separated reports to make, of {', '.join(PARTS)}")
    p.add_argument("--exhaustive", action="store_true",
                   help="run every case of the table, the slow exhaustive variants included, "
                        "instead of the default's every family once")
    pictures = p.add_mutually_exclusive_group()
    pictures.add_argument("--plots", action="store_true",
                          help="besides summary.png, write each of its panels as a large PNG "
                               "(heatmap.png, errors.png, trajectories.png)")
    pictures.add_argument("--no-plots", action="store_true",
                          help="write the CSV reports only, no summary.png")
    _add_run_options(p)
    return p


# --------------------------------------------------------------------------------------
# how the cases run: worker processes, progress bar (comparisons.core.parallel, .progress)
# --------------------------------------------------------------------------------------
def _jobs(text: str) -> int:
    """argparse type of --jobs: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (1 = no worker "
                                         f"processes), got {value}")
    return value


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="run the cases in N worker processes (1: in this process); the "
                        "reports are byte-identical for every N (default: one per CPU, "
                        f"{available_cpus()} here, fewer for a small selection)")
    p.add_argument("--device", choices=DEVICES, default="cpu",
                   help="where the torch side runs: cpu, or cuda (float32 with TF32 off; "
                        "needs a CUDA GPU)")
    add_quiet_argument(p)


def _n_jobs(args: argparse.Namespace, items: list) -> int:
    return auto_jobs(len(items)) if args.jobs is None else args.jobs


def _start_method(args: argparse.Namespace) -> str | None:
    return "spawn" if args.device == "cuda" else None  # CUDA does not survive a fork


def _check_run_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Errors in the run options, before any work starts."""
    try:
        check_device(args.device)
    except ValueError as err:
        parser.error(str(err))


def _list_arg(parser: argparse.ArgumentParser, value: str, valid: Sequence[str],
              what: str) -> list[str]:
    items = tokens(value)
    bad = [i for i in items if i not in valid]
    if bad or not items:
        parser.error(f"unknown {what} {', '.join(bad) or '(none given)'}; valid: "
                     f"{', '.join(valid)}")
    return items


def _select(parser: argparse.ArgumentParser, args: argparse.Namespace,
            parts: list[Part]) -> dict[str, list]:
    """The cases to run, part by part, checked before anything runs: without --only the
    default selection (every family once; all of them with --exhaustive), with --only the
    matching cases of the whole table (an error naming the closest ids if one matches
    nothing)."""
    # --only picks from every case, the exhaustive variants included
    table = argparse.Namespace(**{**vars(args), "exhaustive": True}) if args.only else args
    every = {p.name: p.cases(table) for p in parts}
    if not args.only and not args.exhaustive:  # the default report: every family once
        return {name: core(cases) for name, cases in every.items()}
    all_ids = [c.id for cases in every.values() for c in cases]
    lost = unmatched(all_ids, args.only)
    if lost:
        missing_real = ([c.id for c in REAL_DATA_CASES + MODEL_TRAJECTORY_CASES]
                        if not args.real_data and "trajectories" in every else [])
        if missing_real and not unmatched(missing_real, ",".join(lost)):
            fail(parser.prog, f"the cases matching {', '.join(lost)} train on data sets bundled "
                              f"with scikit-learn, which is not installed "
                              f"(pip install 'backprop-reference-suite[data]')")
        problem = selection_error(all_ids, args.only)
        assert problem is not None  # some token matches no id: `lost` is not empty
        fail(parser.prog, problem + "; --list prints the ids")
    selected = {}
    for name, cases in every.items():
        chosen = set(select_ids([c.id for c in cases], args.only))
        selected[name] = [c for c in cases if c.id in chosen]
    return selected


def _print_list(selected: dict[str, list]) -> None:
    try:
        # the part first: an activation's id (relu-float64) names its component case and
        # its layer case alike
        print("\n".join(f"{name} {c.id}" for name, cases in selected.items() for c in cases))
    except BrokenPipeError:  # `--list | head`: the reader left, nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (stops the error at exit)


def _run_part(part: Part, cases: list, args: argparse.Namespace) -> pd.DataFrame:
    """Run one part, write its CSVs and print its summary; the frame of every row."""
    path = args.out / part.csv
    start = time.perf_counter()
    df = part.run(cases, args)
    write_csv(df[part.columns], path)
    for name, make in part.extra.items():
        write_csv(make(df), args.out / name)
    part.summary(df, cases, args)
    print(f"  wrote {path} in {time.perf_counter() - start:.1f} s")
    return df


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:  # backprop-compare check student.py: comparisons.check.cli
        from comparisons.check.cli import main as check_main
        return check_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    _check_run_options(parser, args)
    args.oracle_list = _list_arg(parser, args.oracles, NETWORK_ORACLES, "oracle(s)")
    parts = [PARTS[n] for n in _list_arg(parser, args.parts, list(PARTS), "part(s)")]
    if not args.list:
        problem = out_dir_problem(args.out)
        if problem:
            fail(parser.prog, problem)
    args.real_data = sklearn_available()
    selected = _select(parser, args, parts)
    if args.list:
        _print_list(selected)
        return 0

    failed_lines: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for part in parts:
        if not selected[part.name]:
            print(f"{part.name}: no case selected; {args.out / part.csv} left as it was")
            continue
        frames[part.name] = _run_part(part, selected[part.name], args)
        failed_lines += part.failures(frames[part.name])
    if not args.no_plots:
        _pictures(frames, args)
    for line in failed_lines[:20]:
        print("FAIL", line)
    if len(failed_lines) > 20:
        print(f"... and {len(failed_lines) - 20} more failures (the CSV has them all)")
    return 1 if failed_lines else 0


def _pictures(frames: dict[str, pd.DataFrame], args: argparse.Namespace) -> None:
    from manual.lessons._common import matplotlib_available

    if not matplotlib_available():
        print(PLOTS_HINT)
        return
    from comparisons import plots

    start = time.perf_counter()
    written = plots.write_summary(frames, args.out, large=args.plots)
    names = ", ".join(str(p) for p in written)
    print(f"pictures: wrote {names} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
