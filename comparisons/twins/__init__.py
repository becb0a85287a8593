"""The torch twins of manual objects, without the records: how a layer's twin is built from
a table of builders and synced (:mod:`~comparisons.twins.layers`), and a twin's state in the
manual names and layout (:mod:`~comparisons.twins.state`). Above :mod:`comparisons.core`;
the records (:mod:`comparisons.cases`) name the builders defined here, and
:mod:`comparisons.run.bridge` hands the records' table to them."""
