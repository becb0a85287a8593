"""Moved to :mod:`comparisons.teaching.lessons`; this package keeps the old import path and
``python -m comparisons.lessons`` working."""

from comparisons.teaching.lessons import *  # noqa: F401,F403
