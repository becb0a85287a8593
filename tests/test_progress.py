"""The progress bar shows only where someone can see it: a terminal, not CI, not --quiet."""

import io
import sys

from comparisons.core import progress as prog


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bar_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert prog.progress_enabled()
    assert not prog.progress_enabled(quiet=True)
    monkeypatch.setenv("CI", "true")
    assert not prog.progress_enabled()
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # redirected
    assert not prog.progress_enabled()


def test_bar_draws_on_a_terminal_and_is_silent_otherwise(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert list(prog.progress(range(3), desc="cases")) == [0, 1, 2]
    assert "cases" in term.getvalue()
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with prog.progress(total=2, desc="cases", quiet=True) as bar:
        bar.update(2)
    assert quiet.getvalue() == ""
