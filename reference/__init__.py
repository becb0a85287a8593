"""The oracle: the same models built from torch's own built-ins, differentiated by autograd.

Nothing here re-types a formula from :mod:`manual`; every function is torch's
(``torch.sigmoid``, ``F.cross_entropy``, ``nn.Linear`` ...), so a wrong derivation on
the manual side cannot hide in a shared copy.
"""

from reference import activations, losses
from reference.network import MLP

__all__ = ["MLP", "activations", "losses"]
