"""The import graph: no cycle among the modules of comparisons/, and manual/ and reference/
never import comparisons. Every import counts, those inside functions (lazy imports) and
under ``if TYPE_CHECKING`` included: a cycle hidden behind a lazy import is still one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules(package: str) -> dict[str, Path]:
    """dotted module name -> file, for every .py file under ``package``."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported(path: Path, module: str, modules: dict[str, Path] | None = None) -> set[str]:
    """Every dotted name ``path`` imports, anywhere in the file. ``from a import b`` gives
    ``a.b`` when that is a module of ``modules`` (a submodule), else ``a`` (b is a name
    defined in a: the import runs a's code)."""
    modules = modules or {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..a import b
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                names.add(full if full in modules or not modules else base)
    return names


def _graph(package: str) -> dict[str, set[str]]:
    """module -> the modules of ``package`` it imports (for a dotted name that is not a
    module, the nearest enclosing one)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported(path, module, modules):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                targets.add(name)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as [a, b, ..., a], or [] if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports(tmp_path):
    """An import inside a function is an edge, as one at the top."""
    source = "def f():\n    from comparisons import bridge\n    import comparisons.runner\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    assert {"comparisons.bridge", "comparisons.runner"} <= _imported(path, "comparisons.m")


def test_comparisons_has_no_import_cycle():
    graph = _graph("comparisons")
    assert len(graph) > 30 and "comparisons.cases.catalog" in graph
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_manual_and_reference_never_import_comparisons():
    for package in ("manual", "reference"):
        for module, path in _modules(package).items():
            bad = sorted(n for n in _imported(path, module)
                         if n == "comparisons" or n.startswith("comparisons."))
            assert not bad, f"{module} imports {', '.join(bad)}"
