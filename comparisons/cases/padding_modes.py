"""The records of the N-d padding layers (``ZeroPad1d``/``3d``, ``ReflectionPad1d``/``3d``,
``ReplicationPad1d``/``2d``/``3d``, ``CircularPad1d``/``2d``/``3d``): their cases in both
dtypes (int and tuple paddings, unbatched inputs, cropping, reflection at its limit of
size - 1, circular padding of the whole size), on tiny shapes, and negative controls.
The convolutions' ``padding_mode`` cases are in :mod:`comparisons.cases.layers` (Conv1d,
Conv2d) and :mod:`comparisons.cases.reach_conv` (Conv3d).

Data only: importing this module changes nothing anywhere else."""

from __future__ import annotations

from comparisons.cases.info import LayerControl, LayerInfo, fails, layer_cases
from comparisons.slips.padding_modes import (CircularPad2dGradCropped, pad_nd_slips,
                                             ReplicationPad1dEdgeGradOnce)
from manual.layers import (CircularPad1d, CircularPad2d, CircularPad3d, ReflectionPad1d,
                           ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                           ReplicationPad3d, ZeroPad1d, ZeroPad3d)

__all__ = ["PADDING_MODE_LAYERS"]

_ORACLES = ("torch", "fd", "taylor")
_ZERO1D = layer_cases(ZeroPad1d, [
    ("", {"padding": (2, 1)}, ((2, 3, 4),), {}),
    ("crop-1d-input", {"padding": (-1, 2)}, ((5,),), {}),
])
_ZERO3D = layer_cases(ZeroPad3d, [
    ("", {"padding": (1, 0, 2, 1, 0, 1)}, ((1, 2, 2, 3, 2),), {}),
    ("int-unbatched", {"padding": 1}, ((2, 2, 2, 2),), {}),
])
_REFLECT1D = layer_cases(ReflectionPad1d, [
    ("", {"padding": (2, 3)}, ((2, 3, 4),), {}),  # 3 = length - 1: the limit
    ("int-unbatched", {"padding": 1}, ((3, 4),), {}),
])
_REFLECT3D = layer_cases(ReflectionPad3d, [
    ("", {"padding": (1, 2, 0, 1, 1, 1)}, ((1, 2, 2, 3, 3),), {}),
])
_REPLICATE1D = layer_cases(ReplicationPad1d, [
    ("", {"padding": (3, 1)}, ((2, 3, 4),), {}),
    ("crop-unbatched", {"padding": (-1, 2)}, ((3, 4),), {}),
])
_REPLICATE2D = layer_cases(ReplicationPad2d, [
    ("", {"padding": (1, 2, 2, 0)}, ((2, 2, 3, 4),), {}),
    ("int-unbatched", {"padding": 2}, ((2, 3, 3),), {}),
])
_REPLICATE3D = layer_cases(ReplicationPad3d, [
    ("", {"padding": (1, 0, 2, 1, 0, 2)}, ((1, 2, 2, 2, 3),), {}),
])
_CIRCULAR1D = layer_cases(CircularPad1d, [
    ("", {"padding": (1, 4)}, ((2, 3, 4),), {}),  # 4 = the whole length: one full wrap
    ("int-unbatched", {"padding": 2}, ((3, 4),), {}),
])
_CIRCULAR2D = layer_cases(CircularPad2d, [
    ("", {"padding": (2, 1, 1, 3)}, ((2, 2, 3, 4),), {}),
    ("int-unbatched", {"padding": 1}, ((2, 3, 3),), {}),
])
_CIRCULAR3D = layer_cases(CircularPad3d, [
    ("", {"padding": (1, 2, 0, 1, 2, 1)}, ((1, 2, 2, 3, 3),), {}),
])

#: the records, in report order
PADDING_MODE_LAYERS: list[LayerInfo] = [
    LayerInfo(ZeroPad1d, cases=tuple(_ZERO1D), slips=pad_nd_slips),
    LayerInfo(ZeroPad3d, cases=tuple(_ZERO3D), slips=pad_nd_slips),
    LayerInfo(ReflectionPad1d, cases=tuple(_REFLECT1D), slips=pad_nd_slips),
    LayerInfo(ReflectionPad3d, cases=tuple(_REFLECT3D), slips=pad_nd_slips),
    LayerInfo(ReplicationPad1d, cases=tuple(_REPLICATE1D), slips=pad_nd_slips,
              controls=(LayerControl(
        "replication padding's backward as an assigning scatter: each end element keeps "
        "one copy's gradient instead of the sum over its copies",
        ReplicationPad1dEdgeGradOnce, _REPLICATE1D[0], fails(_ORACLES, ("grad_input",))),)),
    LayerInfo(ReplicationPad2d, cases=tuple(_REPLICATE2D), slips=pad_nd_slips),
    LayerInfo(ReplicationPad3d, cases=tuple(_REPLICATE3D), slips=pad_nd_slips),
    LayerInfo(CircularPad1d, cases=tuple(_CIRCULAR1D), slips=pad_nd_slips),
    LayerInfo(CircularPad2d, cases=tuple(_CIRCULAR2D), slips=pad_nd_slips,
              controls=(LayerControl(
        "circular padding's backward cropped like zero padding's: the wrapped copies' "
        "gradients not added back onto the opposite edges", CircularPad2dGradCropped,
        _CIRCULAR2D[0], fails(_ORACLES, ("grad_input",))),)),
    LayerInfo(CircularPad3d, cases=tuple(_CIRCULAR3D), slips=pad_nd_slips),
]
