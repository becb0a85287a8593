"""The case table, one module per family (activations and losses, layers, sequence
models, …). :mod:`comparisons.registry` gathers them into the one registry that drives
pytest, the CLI, the CSV report, the gallery and the negative controls."""
