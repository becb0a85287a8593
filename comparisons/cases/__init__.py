"""The case table, records only: importing a module here changes no other module's lists.
One module per family (activations and losses: :mod:`~comparisons.cases.components`; the
layer records of dense and convolution layers, attention, normalisation, recurrent layers),
:mod:`comparisons.cases.info` defines the layer record,
:class:`~comparisons.cases.info.LayerInfo`; :mod:`comparisons.cases.catalog` holds the one
list of them, ``LAYER_INFOS``; :mod:`comparisons.cases.registry` gathers the rest of the
table (networks, components, trajectories); :mod:`~comparisons.cases.data` and
:mod:`~comparisons.cases.selection` give the cases their inputs and the core subset;
:mod:`~comparisons.cases.workloads` the layers' benchmark workloads."""
