"""The runners, one per part of the report: networks (:mod:`~comparisons.run.networks`,
``gradients.csv``), activations and losses (:mod:`~comparisons.run.components`,
``components.csv``), layers (:mod:`~comparisons.run.layers`, ``layers.csv``), the layers'
negative controls (:mod:`~comparisons.run.controls`, ``controls.csv``), training
trajectories (:mod:`~comparisons.run.trajectories`,
:mod:`~comparisons.run.model_trajectories`), with the rows they share
(:mod:`~comparisons.run.rows`); the signature check (:mod:`~comparisons.run.signatures`);
and the twins of the records' objects (:mod:`~comparisons.run.bridge`)."""
