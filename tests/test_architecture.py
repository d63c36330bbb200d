"""The package's layering: no import cycles anywhere in bandster/, and the pure layers load no runtime.

The graph counts every import of a bandster module: at module level, inside functions and under
``TYPE_CHECKING`` (an import moved into a function to dodge a cycle is still the cycle), plus the modules a
package names for ``importlib.import_module`` (lazy re-exports).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "bandster")

#: the Pyro runtime: what neither the records nor the schedulers, samplers and budget arithmetic may load
RUNTIME = [
    "Pyro5",
    "bandster.core.master",
    "bandster.core.dispatcher",
    "bandster.core.worker",
    "bandster.core.nameserver",
    "bandster.core.security",
    "bandster.core.credentials",
    "bandster.core.protocol",
    "bandster.runtime",
    "bandster.backends.pyro",
]
#: the algorithm layers: what the records (and reading a run) may not load either
ALGORITHMS = [
    "ConfigSpace",
    "bandster.core.base_iteration",
    "bandster.core.base_config_generator",
    "bandster.schedulers",
    "bandster.samplers",
    "bandster.backends",
    "bandster.optimizers",
]
#: the records, and the modules that read a run (``bandster status``, ``report``, ``plan``)
RECORDS_AND_READERS = [
    "bandster.records",
    "bandster.records.datum",
    "bandster.records.format",
    "bandster.records.journal",
    "bandster.records.result",
    "bandster.records.run_table",
    "bandster.plan",
    "bandster.analysis",
    "bandster.analysis.status",
    "bandster.analysis.report",
    "bandster.cli.status",
    "bandster.cli.report",
    "bandster.cli.plan",
    "bandster.cli.stop",
]
#: the packages of the decision layers, and the budget arithmetic (its old path too)
DECISION_LAYERS = ["bandster.schedulers", "bandster.samplers", "bandster.optimizers.brackets"]
#: what a records module may import inside bandster (besides other records modules): the value conversions,
#: and the analysis that ``Result.importance`` delegates to (inside the method; it imports no records back)
RECORDS_MAY_IMPORT = {"bandster.core._convert", "bandster.analysis.importance"}


# --------------------------------------------------------------------------------------------------------
# the graph


def module_files() -> dict[str, str]:
    """``{dotted module name: path}`` for every module of bandster/."""
    modules = {}
    for directory, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for filename in sorted(filenames):
            if not filename.endswith(".py"):
                continue
            path = os.path.join(directory, filename)
            parts = os.path.relpath(path, ROOT)[: -len(".py")].split(os.sep)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a (possibly relative) ``from ... import``."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(module: str, path: str, modules: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``(imported bandster module, line)`` for every import in ``path``, wherever it is in the file."""
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), filename=path)
    is_package = path.endswith("__init__.py")
    uses_import_module = False
    strings: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    yield sub, node.lineno
                elif target in modules:
                    yield target, node.lineno
        elif isinstance(node, ast.Attribute) and node.attr == "import_module":
            uses_import_module = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules:
            strings.append((node.value, node.lineno))
    if uses_import_module:  # module names given to importlib.import_module, e.g. a lazy re-export table
        yield from strings


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: first line}}`` over bandster/, self-imports left out."""
    modules = module_files()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(module, path, modules):
            if target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def strongly_connected_components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); only the components with a cycle (two or more modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def a_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One cycle inside ``component``, as ``module (line) -> module ...`` steps, for the failure message."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:  # breadth-first from start, back to start: a shortest cycle through it
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    path.reverse()
                    path.append(start)
                    return [f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:], strict=False)] + [start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return component  # pragma: no cover - a component always has a cycle


def describe(graph: dict[str, dict[str, int]], components: list[list[str]]) -> str:
    return "\n".join(f"  {{{', '.join(c)}}}\n    e.g. {' -> '.join(a_cycle(graph, c))}" for c in components)


# --------------------------------------------------------------------------------------------------------
# tests of the graph builder itself


def test_the_graph_counts_imports_in_functions_type_checking_and_lazy_tables(tmp_path):
    modules = {name: str(tmp_path / f"{name}.py") for name in
               ("bandster.a", "bandster.b", "bandster.c", "bandster.d", "bandster.e")}
    source = (
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "if TYPE_CHECKING:\n"
        "    from bandster.b import B\n"
        "def f():\n"
        "    import bandster.c\n"
        "    from bandster import d\n"
        "_LAZY = {'E': 'bandster.e'}\n"
        "def __getattr__(name):\n"
        "    return importlib.import_module(_LAZY[name])\n"
    )
    path = tmp_path / "a.py"
    path.write_text(source)
    found = {target for target, _ in imports_of("bandster.a", str(path), modules)}
    assert found == {"bandster.b", "bandster.c", "bandster.d", "bandster.e"}


def test_the_cycle_finder_finds_a_cycle_and_shows_it():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    components = strongly_connected_components(graph)
    assert components == [["a", "b", "c"]]
    assert a_cycle(graph, components[0]) == ["a (line 1)", "b (line 2)", "c (line 3)", "a"]


# --------------------------------------------------------------------------------------------------------
# the package


def test_no_import_cycles():
    graph = import_graph()
    assert "bandster.records.format" in graph and len(graph) > 50
    components = strongly_connected_components(graph)
    assert not components, "import cycles in bandster/:\n" + describe(graph, components)


def _loaded_by(module: str, forbidden: list[str]) -> list[str]:
    """The ``forbidden`` modules (and their submodules) that ``import module`` loads, in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"forbidden = {forbidden!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in forbidden))))\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_records_import_only_records():
    """Statically, anywhere in the file: the records import no other bandster layer."""
    graph = import_graph()
    records = [m for m in graph if m == "bandster.records" or m.startswith("bandster.records.")]
    assert len(records) >= 6
    outside = {
        (module, target, line)
        for module in records
        for target, line in graph[module].items()
        if not target.startswith("bandster.records") and target not in RECORDS_MAY_IMPORT
    }
    assert not outside, f"records import other layers (module, imported, line): {sorted(outside)}"


@pytest.mark.parametrize("module", RECORDS_AND_READERS)
def test_records_and_readers_load_neither_runtime_nor_algorithms(module):
    assert _loaded_by(module, RUNTIME + ALGORITHMS) == [], f"importing {module} loads another layer"


@pytest.mark.parametrize("package", DECISION_LAYERS)
def test_decision_layers_load_no_runtime(package):
    # looked up in this checkout's files: an editable install elsewhere could otherwise supply the package
    graph = import_graph()
    if package not in graph:
        pytest.skip(f"{package} does not exist yet (issue 12 creates it)")
    modules = sorted(m for m in graph if m == package or m.startswith(package + "."))
    for module in modules:
        assert _loaded_by(module, RUNTIME) == [], f"importing {module} loads the runtime"


def test_the_optimizers_are_still_importable_from_the_package():
    code = ("import sys\nfrom bandster.optimizers import ASHA, BOHB, HyperBand, RandomSearch\n"
            "import bandster.optimizers as o\nassert o.AsyncBOHB.__name__ == 'AsyncBOHB'\n"
            "assert 'BOHB' in dir(o)\nprint('Pyro5' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"  # the optimizers themselves do load the runtime


def test_no_private_name_is_imported_from_another_module():
    """``from bandster.x import _name`` would tie a module to another's internals (the figures' data functions
    are public for this reason: bandster.visualization.data)."""
    found = []
    for module, path in module_files().items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("bandster")):
                found += [f"{module}:{node.lineno} imports {alias.name} from {node.module}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == []
