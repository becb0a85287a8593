"""Every ``>>>`` example in the packages' docstrings runs and says what it claims.

The modules are found, not listed: any module of manual/, reference/ or comparisons/ whose
source has a ``>>>`` line is a target, and a target whose examples doctest does not find
(an example in a comment, or in a docstring doctest cannot reach) fails, so an example can
neither be wrong nor silently never run."""

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["manual", "reference", "comparisons"]
PROMPT = re.compile(r"^\s*>>> ", re.MULTILINE)


def _modules_with_examples() -> list[str]:
    names = []
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            path = ROOT / (info.name.replace(".", "/") + ("/__init__.py" if info.ispkg
                                                          else ".py"))
            if path.exists() and PROMPT.search(path.read_text(encoding="utf-8")):
                names.append(info.name)
    return sorted(names)


TARGETS = _modules_with_examples()


def test_the_examples_are_found():
    assert "manual.activations" in TARGETS and len(TARGETS) >= 10, TARGETS


@pytest.mark.parametrize("name", TARGETS)
def test_doctests(name):
    module = importlib.import_module(name)
    source = Path(module.__file__).read_text(encoding="utf-8")
    expected = len(PROMPT.findall(source))
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    found = 0
    for test in finder.find(module, name):
        if Path(test.filename or "") != Path(module.__file__):
            continue  # an object imported from another module: its own module runs it
        found += len(test.examples)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
    assert found >= expected, (f"{name}: {expected} '>>>' lines in the source but doctest runs "
                               f"{found}: an example it cannot reach never runs")
