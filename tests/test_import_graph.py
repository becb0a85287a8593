"""The import graph: no cycle among the modules of comparisons/, no import pointing up the
layering of its subpackages (:data:`LAYERS`), and manual/ and reference/ never import
comparisons. Every import counts, those inside functions (lazy imports) and under
``if TYPE_CHECKING`` included: a cycle hidden behind a lazy import is still one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The layers of comparisons/, lowest first. A module may import from its own layer (the
#: graph stays acyclic) and from the layers below it, never from one above: the flow reads
#: bottom-up, from comparing arrays to the commands.
LAYERS = (
    "comparisons.core",      # compare, tolerances, diagnosis, oracles, devices, pools, CLI helpers
    "comparisons.twins",     # the torch twins without the records: builders, state conversion
    "comparisons.slips",     # every negative control (and the mutants)
    "comparisons.cases",     # the records: layers, components, networks, trajectories
    "comparisons.run",       # one runner per report part, and the records' bridge
    "comparisons.check",     # student checking
    "comparisons.teaching",  # lessons, gallery, notebooks
    "comparisons.bench",     # the speed benchmark
    "comparisons",           # the application: cli, __main__, plots, testing, the package API
)


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
    source = "def f():\n    from comparisons.run import bridge\n    import comparisons.run.rows\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    assert {"comparisons.run.bridge", "comparisons.run.rows"} <= _imported(path, "comparisons.m")


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the layer ``module`` belongs to: its subpackage's, else
    (a top-level module) the application's, the last."""
    for i, layer in enumerate(LAYERS[:-1]):
        if module == layer or module.startswith(layer + "."):
            return i
    if module == LAYERS[-1] or module.startswith(LAYERS[-1] + "."):
        return len(LAYERS) - 1
    raise AssertionError(f"{module} is in no layer of LAYERS")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every edge of ``graph`` from a module to one of a higher layer, as ``a -> b``."""
    return [f"{a} ({LAYERS[layer_of(a)]}) -> {b} ({LAYERS[layer_of(b)]})"
            for a in sorted(graph) for b in sorted(graph[a]) if layer_of(b) > layer_of(a)]


def test_layer_of():
    assert LAYERS[layer_of("comparisons.core.compare")] == "comparisons.core"
    assert LAYERS[layer_of("comparisons.run")] == "comparisons.run"
    assert LAYERS[layer_of("comparisons.cli")] == "comparisons"
    assert LAYERS[layer_of("comparisons")] == "comparisons"


def test_upward_imports_are_found():
    graph = {"comparisons.core.compare": {"comparisons.run.networks"},
             "comparisons.run.networks": {"comparisons.core.compare"}}
    assert upward_imports(graph) == ["comparisons.core.compare (comparisons.core) -> "
                                     "comparisons.run.networks (comparisons.run)"]


def test_every_module_is_in_a_layer():
    """Each subpackage of comparisons/ is a layer of LAYERS (a new one must be placed), and
    only the application modules sit at the top level."""
    packages = {p.parent.relative_to(ROOT).as_posix().replace("/", ".")
                for p in (ROOT / "comparisons").glob("*/__init__.py")}
    assert packages == set(LAYERS[:-1])
    top = sorted(p.stem for p in (ROOT / "comparisons").glob("*.py"))
    assert top == ["__init__", "__main__", "cli", "plots", "testing"]


def test_no_import_points_up_the_layers():
    up = upward_imports(_graph("comparisons"))
    assert not up, "imports pointing up the layering:\n" + "\n".join(up)


def test_comparisons_has_no_import_cycle():
    graph = _graph("comparisons")
    assert len(graph) > 40 and "comparisons.cases.catalog" in graph
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_manual_and_reference_never_import_comparisons():
    for package in ("manual", "reference"):
        for module, path in _modules(package).items():
            bad = sorted(n for n in _imported(path, module)
                         if n == "comparisons" or n.startswith("comparisons."))
            assert not bad, f"{module} imports {', '.join(bad)}"


def test_comparisons_imports_no_private_module_of_manual():
    """The commands of comparisons/ take their helpers from manual's public ``manual.cli``
    (the one copy every command shares), never from a private module of manual."""
    for module, path in _modules("comparisons").items():
        bad = sorted(n for n in _imported(path, module)
                     if n.startswith("manual._") and not n.startswith("manual._numerics"))
        assert not bad, f"{module} imports {', '.join(bad)}"
