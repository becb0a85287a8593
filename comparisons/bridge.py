"""The bridge between the two sides: building the torch twin of a manual object, copying
weights and buffers across, converting states and histories.

It lives here, in ``comparisons/``, because ``reference/`` (the oracle) must import nothing
from ``manual/`` and ``manual/`` must never import torch.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------
# layers and Sequential models (the layer protocol of manual.layers)
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# the MLP, optimizer state and training histories
# --------------------------------------------------------------------------------------
