"""``backprop-compare``: run every registry case and write the CSV report.

    backprop-compare [--out reports] [--only SUBSTRING] [--oracles torch,vjp,fd,taylor]
                     [--parts gradients,components,layers,trajectories] [--exhaustive]

Writes to the output folder

- ``gradients.csv``: one row per network case x parameter x oracle, plus one row per
  skipped pair of the matrix;
- ``components.csv``: each activation and loss on its own (forward, derivative,
  backward; value and gradient), one row per case x quantity;
- ``layers.csv``: single layers (``manual.layers``) against their ``torch.nn`` modules and
  ``Sequential`` networks with a loss, one row per case x quantity x oracle (same columns);
- ``trajectories.csv``: training runs with the manual optimizers against ``torch.optim``,
  one row per case x step (the real-data cases when scikit-learn is installed);

prints a short summary and exits with status 1 if any comparison fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import pandas as pd

from comparisons.compare import describe
from comparisons.device import DEVICES, check_device
from comparisons.layers import run_layer_cases
from comparisons.model_trajectories import MODEL_TRAJECTORY_CASES, run_model_trajectories
from comparisons.parallel import auto_jobs, available_cpus, run_ordered
from comparisons.progress import add_quiet_argument
from comparisons.registry import (CASES, COMPONENT_CASES, LAYER_CASES, NETWORK_CASES,
                                 REAL_DATA_CASES, SKIPPED, TRAJECTORY_CASES)
from comparisons.runner import (NETWORK_ORACLES, ROW_COLUMNS, run_case, run_component,
                                skipped_rows)
from comparisons.tolerances import TAYLOR_MIN_SLOPE
from comparisons.trajectories import (TRAJECTORY_COLUMNS, run_trajectory, trajectory_failures,
                                      trajectory_summary)
from manual.datasets import sklearn_available

__all__ = ["main", "write_csv"]


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a report deterministically: fixed column order, exact floats, no index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")  # floats as shortest round-trip repr


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backprop-compare", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="folder for the CSV reports (default: reports)")
    p.add_argument("--only", default="",
                   help="run only the cases whose id contains this substring")
    p.add_argument("--oracles", default=",".join(NETWORK_ORACLES),
                   help=f"comma-separated network oracles: {', '.join(NETWORK_ORACLES)} "
                        f"(default: all)")
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma-separated reports to make: {', '.join(PARTS)} (default: all)")
    p.add_argument("--exhaustive", action="store_true",
                   help="also run the exhaustive layer variants (slow)")
    _add_run_options(p)
    return p


# --------------------------------------------------------------------------------------
# how the cases run: worker processes, progress bar (comparisons.parallel, .progress)
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
                        "needs a CUDA GPU) (default: cpu)")
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


PARTS = ("gradients", "components", "layers", "trajectories")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:  # backprop-compare check student.py: comparisons.check_cli
        from comparisons.check_cli import main as check_main
        return check_main(argv[1:])
    args = _parser().parse_args(argv)
    _check_run_options(_parser(), args)
    oracles = [o.strip() for o in args.oracles.split(",") if o.strip()]
    bad = sorted(set(oracles) - set(NETWORK_ORACLES))
    if bad or not oracles:
        _parser().error(f"unknown oracle(s) {bad}; valid: {', '.join(NETWORK_ORACLES)}")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    bad = sorted(set(parts) - set(PARTS))
    if bad or not parts:
        _parser().error(f"unknown part(s) {bad}; valid: {', '.join(PARTS)}")
    cases = [c for c in CASES if args.only in c.id] if "gradients" in parts else []
    components = ([c for c in COMPONENT_CASES if args.only in c.id]
                  if "components" in parts else [])
    layer_cases, network_cases = (
        ([c for c in LAYER_CASES if args.only in c.id and (args.exhaustive or not c.exhaustive)],
         [c for c in NETWORK_CASES if args.only in c.id and (args.exhaustive or not c.exhaustive)])
        if "layers" in parts else ([], []))
    real_data = sklearn_available()
    trajectories = [c for c in TRAJECTORY_CASES + (REAL_DATA_CASES if real_data else [])
                    if args.only in c.id] if "trajectories" in parts else []
    model_runs = [c for c in MODEL_TRAJECTORY_CASES if args.only in c.id and (
        args.exhaustive or not c.exhaustive)] if "trajectories" in parts and real_data else []
    if not cases and not components and not trajectories and not layer_cases \
            and not network_cases and not model_runs:
        if not real_data and any(args.only in c.id for c in REAL_DATA_CASES):
            _parser().error(f"the cases matching {args.only!r} train on data sets bundled with "
                            f"scikit-learn, which is not installed "
                            f"(pip install 'backprop-reference-suite[data]')")
        _parser().error(f"no case id contains {args.only!r}")
    failed_lines: list[str] = []
    if "gradients" in parts:
        failed_lines += _gradients(cases, oracles, args)
    if "components" in parts:
        failed_lines += _components(components, args)
    if "layers" in parts and (layer_cases or network_cases):
        failed_lines += _layers(layer_cases, network_cases, oracles, args)
    if "trajectories" in parts:
        failed_lines += _trajectories(trajectories, args, real_data, model_runs)
    for line in failed_lines[:20]:
        print("FAIL", line)
    return 1 if failed_lines else 0


def _gradients(cases: list, oracles: list[str], args: argparse.Namespace) -> list[str]:
    start = time.perf_counter()
    results = run_ordered(partial(run_case, oracles=oracles, device=args.device), cases,
                          _n_jobs(args, cases), desc="gradients", quiet=args.quiet,
                          start_method=_start_method(args))
    rows = [row for case_rows in results for row in case_rows]
    rows += [] if args.only else skipped_rows()
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)  # as runner.run_cases
    write_csv(df, args.out / "gradients.csv")
    elapsed = time.perf_counter() - start

    checked = df[df["kind"] == "network"]
    failed = checked[checked["status"].isin(["fail", "xpass"])]
    print(f"gradients: {len(cases)} cases, {len(checked)} comparisons "
          f"({checked['case'].nunique()} cases x parameters x oracles), "
          f"{len(checked) - len(failed)} passed, {len(failed)} failed; "
          f"{0 if args.only else len(SKIPPED)} activation-loss pairs skipped (reasons in the CSV)")
    for (dtype, oracle), group in checked[checked["oracle"] != "taylor"].groupby(
            ["dtype", "oracle"]):
        worst = group.loc[group["max_abs_err"].idxmax()]
        print(f"  worst {dtype} vs {oracle}: abs err {worst['max_abs_err']:.2e} "
              f"({worst['case']} {worst['parameter']}), max rel err "
              f"{group['max_rel_err'].max():.2e}")
    slopes = checked.loc[checked["oracle"] == "taylor", "taylor_slope"]
    if len(slopes):
        curved = slopes[slopes >= TAYLOR_MIN_SLOPE]
        print(f"  Taylor remainder: {len(curved)} rows fall like eps^2 (slope min "
              f"{curved.min():.3f}, median {curved.median():.3f}); {len(slopes) - len(curved)} "
              f"directions where L is (piecewise) linear, first-order residual within tolerance")
    print(f"wrote {args.out / 'gradients.csv'} in {elapsed:.1f} s")
    return [describe(row) for row in failed.to_dict("records")]


def _components(components: list, args: argparse.Namespace) -> list[str]:
    start = time.perf_counter()
    results = run_ordered(partial(run_component, device=args.device), components,
                          _n_jobs(args, components), desc="components", quiet=args.quiet,
                          start_method=_start_method(args))
    comp = pd.DataFrame([row for rows in results for row in rows],
                        columns=ROW_COLUMNS)  # as runner.run_components
    write_csv(comp, args.out / "components.csv")
    comp_failed = comp[comp["status"].isin(["fail", "xpass"])]
    n_xfail = int((comp["status"] == "xfail").sum())
    print(f"components: {len(components)} activation/loss cases, {len(comp)} comparisons, "
          f"{(comp['status'] == 'pass').sum()} passed, {len(comp_failed)} failed, {n_xfail} "
          f"documented deviations from torch (xfail, reasons in the CSV); wrote "
          f"{args.out / 'components.csv'} in {time.perf_counter() - start:.1f} s")
    return [describe(row) for row in comp_failed.to_dict("records")]


def _layers(layer_cases: list, network_cases: list, oracles: list[str],
            args: argparse.Namespace) -> list[str]:
    start = time.perf_counter()
    # in this process, in registry order: some layer cases (dropout) draw from torch's global
    # random state, so their numbers depend on what ran before them in the same process
    df = run_layer_cases(layer_cases, network_cases, oracles)
    write_csv(df, args.out / "layers.csv")
    failed = df[df["status"].isin(["fail", "xpass"])]
    n_xfail = int((df["status"] == "xfail").sum())
    print(f"layers: {len(layer_cases)} layer cases and {len(network_cases)} networks, "
          f"{len(df)} comparisons, {(df['status'] == 'pass').sum()} passed, {len(failed)} "
          f"failed, {n_xfail} documented deviations (xfail); wrote {args.out / 'layers.csv'} in "
          f"{time.perf_counter() - start:.1f} s")
    for (dtype, oracle), group in df[df["oracle"].isin(["torch", "fd"])].groupby(
            ["dtype", "oracle"]):
        worst = group.loc[group["max_abs_err"].idxmax()]
        print(f"  worst {dtype} vs {oracle}: abs err {worst['max_abs_err']:.2e} "
              f"({worst['case']} {worst['parameter']}), max rel err "
              f"{group['max_rel_err'].max():.2e}")
    return [describe(row) for row in failed.to_dict("records")]


def _trajectories(cases: list, args: argparse.Namespace, real_data: bool,
                  model_runs: list | None = None) -> list[str]:
    start = time.perf_counter()
    frames = run_ordered(partial(run_trajectory, device=args.device), cases,
                         _n_jobs(args, cases), desc="trajectories", quiet=args.quiet,
                         start_method=_start_method(args))
    df = (pd.concat(frames, ignore_index=True) if frames  # as trajectories.run_trajectories
          else pd.DataFrame(columns=TRAJECTORY_COLUMNS))
    if model_runs:  # whole models (a CNN with batch norm and dropout) on digits
        df = pd.concat([df, run_model_trajectories(model_runs)], ignore_index=True)
    write_csv(df, args.out / "trajectories.csv")
    failures = trajectory_failures(df)
    n_cases = df["case"].nunique()
    print(f"trajectories: {n_cases} training runs, {len(df)} steps compared with torch.optim, "
          f"{n_cases - len(failures)} runs passed, {len(failures)} failed; wrote "
          f"{args.out / 'trajectories.csv'} in {time.perf_counter() - start:.1f} s")
    if len(df):
        summary = trajectory_summary(df)
        print("  worst per optimizer: float64 max rel err of any parameter element at any "
              "step | float32 max abs err by step 1/50/100/200/last")
        for opt, group in summary.groupby("optimizer", sort=False):
            cells = {r["dtype"]: r for r in group.to_dict("records")}
            f64 = cells.get("float64")
            f32 = cells.get("float32")
            text = f"    {opt:9s}"
            if f64:
                text += f" float64 {f64['max_rel_err']:.1e} ({f64['worst_case']})"
            if f32:
                growth = "/".join(f"{f32[c]:.1e}" for c in ("abs_err_step_1", "abs_err_step_50",
                                                             "abs_err_step_100", "abs_err_step_200",
                                                             "abs_err_last"))
                text += f" | float32 {growth}"
            print(text)
    if not real_data:
        print(f"  real data: scikit-learn is not installed, so the {len(REAL_DATA_CASES)} runs "
              f"on iris, digits, breast_cancer and diabetes were skipped "
              f"(pip install 'backprop-reference-suite[data]')")
    return failures


if __name__ == "__main__":
    sys.exit(main())
