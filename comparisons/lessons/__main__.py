"""``python -m comparisons.lessons``: the same as ``python -m comparisons.teaching.lessons``."""

import sys

from comparisons.teaching.lessons import main

sys.exit(main())
