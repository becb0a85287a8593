"""``python -m comparisons.lessons``: a shim for :mod:`comparisons.teaching.lessons`."""

import sys

from comparisons.teaching.lessons import *  # noqa: F401,F403
from comparisons.teaching.lessons import main

if __name__ == "__main__":
    sys.exit(main())
