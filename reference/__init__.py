"""The oracle: the same models built from torch's own built-ins, differentiated by autograd.

Nothing here re-types a formula from :mod:`manual`; every function is torch's
(``torch.sigmoid``, ``F.cross_entropy``, ``nn.Linear``, ``torch.optim.Adam``,
``torch.optim.lr_scheduler.StepLR`` ...), so a wrong derivation on the manual side
cannot hide in a shared copy.
"""

from reference import activations, losses, optimizers, schedules, training
from reference.network import MLP

__all__ = ["MLP", "activations", "losses", "optimizers", "schedules", "training"]
