"""The case table, one module per family (activations and losses; the layer records of
dense and convolution layers, attention, normalisation, recurrent layers), records only:
importing a module here changes no other module's lists. :mod:`comparisons.cases.info`
defines the layer record, :class:`~comparisons.cases.info.LayerInfo`;
:mod:`comparisons.cases.catalog` holds the one list of them, ``LAYER_INFOS``;
:mod:`comparisons.registry` gathers the rest of the table."""
