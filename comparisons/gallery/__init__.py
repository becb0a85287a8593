"""Moved to :mod:`comparisons.teaching.gallery`; this package keeps the old import path and
``python -m comparisons.gallery`` working."""

from comparisons.teaching.gallery import *  # noqa: F401,F403
