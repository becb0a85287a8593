"""The harness: one table of cases, comparisons against torch and finite differences, and
the CSV report. This module is the package's public API, gathered from the layers below it
(:mod:`comparisons.core`, :mod:`comparisons.cases`, :mod:`comparisons.run`,
:mod:`comparisons.check`)."""

from comparisons.cases.registry import CASES, SKIPPED, Case
from comparisons.check.checker import check_gradients, check_layer
from comparisons.core.compare import Comparison, compare_arrays, describe
from comparisons.core.oracles import finite_difference_gradients
from comparisons.core.tolerances import Tolerance, tolerance_for, trajectory_tolerance
from comparisons.run.components import compare_activation, compare_loss
from comparisons.run.layers import compare_layer, compare_sequential
from comparisons.run.networks import compare_network, run_case, run_cases
from comparisons.run.rows import failures
from comparisons.run.trajectories import (
                                          compare_training,
                                          run_trajectories,
                                          run_trajectory,
                                          trajectory_failures,
)

__all__ = ["CASES", "SKIPPED", "Case", "Comparison", "Tolerance", "check_gradients",
           "check_layer", "compare_activation", "compare_arrays", "compare_layer",
           "compare_loss", "compare_network", "compare_sequential", "compare_training",
           "describe", "failures", "finite_difference_gradients", "run_case", "run_cases",
           "run_trajectories", "run_trajectory", "tolerance_for", "trajectory_failures",
           "trajectory_tolerance"]
