"""Every negative control, kept apart from the correct code: deliberately wrong subclasses
of the manual layers (:mod:`~comparisons.slips.linear`, :mod:`~comparisons.slips.conv`,
:mod:`~comparisons.slips.norms`, :mod:`~comparisons.slips.attention`,
:mod:`~comparisons.slips.recurrent`, :mod:`~comparisons.slips.reach`,
:mod:`~comparisons.slips.reach_norms`, :mod:`~comparisons.slips.reach_conv`,
:mod:`~comparisons.slips.padding_modes`) and components (:mod:`~comparisons.slips.components`),
named by the records as class references, and the mutants planted in ``manual/`` by
:mod:`~comparisons.slips.mutation`."""
