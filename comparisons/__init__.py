"""The harness: one registry of cases, comparisons against torch and finite differences,
and the CSV report. See :mod:`comparisons.run.runner` for the public API."""

from comparisons.check.checker import check_gradients, check_layer
from comparisons.core.compare import Comparison, compare_arrays, describe
from comparisons.cases.registry import CASES, SKIPPED, Case
from comparisons.run.runner import (compare_activation, compare_loss, compare_network, failures,
                                    finite_difference_gradients, run_case, run_cases)
from comparisons.core.tolerances import Tolerance, tolerance_for, trajectory_tolerance
from comparisons.run.trajectories import (compare_training, run_trajectories, run_trajectory,
                                          trajectory_failures)

__all__ = ["CASES", "SKIPPED", "Case", "Comparison", "Tolerance", "compare_activation",
           "compare_arrays", "compare_loss", "compare_network", "describe", "failures",
           "finite_difference_gradients", "run_case", "run_cases", "tolerance_for"]
__all__ += ["check_gradients", "check_layer"]
__all__ += ["compare_training", "run_trajectories", "run_trajectory", "trajectory_failures",
            "trajectory_tolerance"]

from comparisons.run.layers import compare_layer, compare_sequential  # noqa: E402

__all__ += ["compare_layer", "compare_sequential"]
