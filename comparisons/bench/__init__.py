"""The speed benchmark, manual NumPy against torch (:mod:`~comparisons.bench.benchmark`,
``python -m comparisons.bench.benchmark``); the layers' workloads are in their records
(:mod:`comparisons.cases.workloads`)."""
