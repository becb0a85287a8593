"""The runners, one per part of the report: networks and components
(:mod:`~comparisons.run.runner`: ``gradients.csv``, ``components.csv``), layers
(:mod:`~comparisons.run.layers`: ``layers.csv``), the layers' negative controls
(:mod:`~comparisons.run.controls`: ``controls.csv``), training trajectories
(:mod:`~comparisons.run.trajectories`, :mod:`~comparisons.run.model_trajectories`), and the
signature check (:mod:`~comparisons.run.signatures`); the twins of the records' objects
(:mod:`~comparisons.run.bridge`)."""
