"""``python -m comparisons``: the same as the ``backprop-compare`` command."""

import sys

from comparisons.cli import main

sys.exit(main())
