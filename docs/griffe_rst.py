"""Griffe extension for the API pages: our docstrings are numpydoc with RST inside
(``code``, :func:`roles`, ``.. math::``, ``>>>`` examples, ``::`` literal blocks);
mkdocstrings renders markdown, so each docstring is turned into markdown before it is
parsed (:func:`hooks.rst_to_markdown`). The code's docstrings stay as they are, for
``help()`` and doctest."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import griffe

_spec = importlib.util.spec_from_file_location("docs_hooks", Path(__file__).with_name("hooks.py"))
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring into markdown as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = hooks.rst_to_markdown(obj.docstring.value)
