"""``python -m comparisons.gallery``: a shim for :mod:`comparisons.teaching.gallery`."""

import sys

from comparisons.teaching.gallery import *  # noqa: F401,F403
from comparisons.teaching.gallery import main

if __name__ == "__main__":
    sys.exit(main())
