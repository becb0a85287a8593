"""The lowest layer: comparing arrays (:mod:`~comparisons.core.compare`) under the tolerance
policy (:mod:`~comparisons.core.tolerances`), the diagnosis of a failing comparison
(:mod:`~comparisons.core.diagnosis`), the numerical oracles (finite differences, complex
step, the Taylor test: :mod:`~comparisons.core.oracles`, :mod:`~comparisons.core.batched`),
devices, worker pools and progress bars, the attention calls as layers, and the command-line
helpers. It imports only ``manual/``, ``reference/``, NumPy and torch."""
