"""Checking a student's own code: :func:`~comparisons.check.checker.check_gradients` and
:func:`~comparisons.check.checker.check_layer` (also ``comparisons.check_gradients``,
``comparisons.check_layer``), and the grading command ``backprop-compare check``
(:mod:`~comparisons.check.cli`)."""
