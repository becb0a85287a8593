"""``python -m comparisons.gallery``: the same as ``python -m comparisons.teaching.gallery``."""

import sys

from comparisons.teaching.gallery import main

sys.exit(main())
