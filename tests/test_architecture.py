"""The package's import graph, read from the source with `ast`: no circles, and every import goes down the layers
of docs/architecture.md (or stays in its own layer).

Every `import` counts, at module level or inside a function: a deferred import hides a circle from
Python's import order, not from a reader. Only an import under `if TYPE_CHECKING:` does not: it never
runs, it names a type for annotations. A package's own `__init__` importing its modules is no
circle; a module importing the package it sits in (a name its `__init__` re-exports) is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import motionprobe

PACKAGE = Path(motionprobe.__file__).parent


def _module_files(root: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (its file, whether it is a package's __init__)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _imported(node: ast.Import | ast.ImportFrom, package: str, modules: dict) -> set[str]:
    """The package's modules one import statement names: `from a import b` names a.b when b is a module, else a."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    if node.level:
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    named = {f"{source}.{alias.name}" for alias in node.names}
    return {m if m in modules else source for m in named} & set(modules)


def _with_packages(imported: set[str], package: str, modules: dict) -> set[str]:
    """Importing a.b.c first runs a.b's `__init__`: an edge to it, unless the importer sits inside a.b (then a.b
    was imported before the importer was)."""
    runs = set(imported)
    for name in imported:
        parts = name.split(".")
        for i in range(2, len(parts)):
            outer = ".".join(parts[:i])
            if outer in modules and not (package == outer or package.startswith(outer + ".")):
                runs.add(outer)
    return runs


def _run_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements that can run: all of them but those in the body of `if TYPE_CHECKING:`."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the package's modules it imports anywhere in its source."""
    modules = _module_files(root)
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        imported = set().union(*(_imported(n, package, modules) for n in _run_imports(ast.parse(path.read_text()))))
        graph[name] = _with_packages(imported, package, modules) - {name}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path a → … → a, or None (depth-first search, colouring nodes)."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)):
            return circle
    return None


def test_the_graph_sees_module_and_function_level_imports():
    graph = import_graph()
    assert "motionprobe.config" in graph["motionprobe.workflows"]  # module level
    assert "motionprobe.errors" in graph["motionprobe.config"]
    assert len(graph) > 80


def test_imports_for_type_checking_only_are_not_edges():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\n"
                     "def f():\n    import c\n")
    assert sorted(alias.name for node in _run_imports(tree) for alias in node.names) == ["TYPE_CHECKING", "b", "c"]


def test_find_circle_reports_the_path():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_package_has_no_import_circle():
    circle = find_circle(import_graph())
    assert circle is None, "import circle: " + " → ".join(circle)


# docs/architecture.md's layers, top to bottom: a module may import its own layer and the ones below.
LAYERS = (
    ("motionprobe", "motionprobe.__main__", "motionprobe.cli"),
    ("motionprobe.workflows", "motionprobe.demo_real", "motionprobe.predict", "motionprobe.compare"),
    ("motionprobe.training", "motionprobe.analysis", "motionprobe.report", "motionprobe.evaluation",
     "motionprobe.folders"),
    ("motionprobe.config",),
    ("motionprobe.generator", "motionprobe.models", "motionprobe.data", "motionprobe.weights.load"),
    ("motionprobe.selection", "motionprobe.probes", "motionprobe.weights", "motionprobe.samples",
     "motionprobe.debian", "motionprobe.distributed", "motionprobe.io", "motionprobe.errors", "motionprobe.version"),
)


def layer_of(module: str) -> int:
    """The index of the layer holding `module` (its longest matching prefix)."""
    matches = [(len(prefix), i) for i, layer in enumerate(LAYERS) for prefix in layer
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is in no layer of docs/architecture.md: add it there and to LAYERS"
    return max(matches)[1]


def test_every_import_goes_down_the_layers():
    graph = import_graph()
    upward = [f"{a} → {b}" for a, targets in graph.items() for b in sorted(targets) if layer_of(b) < layer_of(a)]
    assert not upward, upward


def test_the_networks_and_the_data_know_no_workflow_and_read_no_config_when_run():
    leaves = ("motionprobe.data", "motionprobe.models", "motionprobe.generator", "motionprobe.weights")
    above = ("motionprobe.workflows", "motionprobe.cli", "motionprobe.analysis", "motionprobe.report",
             "motionprobe.training", "motionprobe.config")
    found = [f"{a} → {b}" for a, targets in import_graph().items() if a.startswith(leaves)
             for b in sorted(targets) if b.startswith(above)]
    assert not found, found


def test_the_layer_check_sees_an_upward_import(tmp_path):
    package = tmp_path / "motionprobe"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("def f():\n    from ..workflows import pipeline\n")
    (package / "workflows.py").write_text("from .data import f\n")
    graph = import_graph(package)
    assert graph["motionprobe.data"] == {"motionprobe.workflows"}
    assert layer_of("motionprobe.workflows") < layer_of("motionprobe.data")


SECTION_ONLY = ("data", "models", "generator", "analysis", "weights")  # handed their own sections (or none), never the whole


def test_the_networks_the_clips_and_the_analysis_never_name_the_whole_config():
    """Each is handed its own section (docs/architecture.md): not even an annotation names `Config` there, so a
    new function cannot quietly start reading another part's settings."""
    offenders = []
    for name, (path, _) in _module_files().items():
        if name.split(".")[1:2] and name.split(".")[1] in SECTION_ONLY:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and any(alias.name == "Config" for alias in node.names):
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
    assert len([n for n in _module_files() if n.split(".")[1:2] and n.split(".")[1] in SECTION_ONLY]) > 30


def test_the_training_loops_take_a_checked_config_and_import_nothing_of_config_py_when_they_run():
    """The workflows resolve and check the config; the loops read it (and record it in their folders) but never
    build or check one, so `config.py` is named there only under `if TYPE_CHECKING:`, for annotations."""
    modules = _module_files()
    offenders = []
    for name, (path, is_package) in modules.items():
        if name.startswith("motionprobe.training."):
            package = name if is_package else name.rpartition(".")[0]
            for node in _run_imports(ast.parse(path.read_text(encoding="utf-8"))):
                if "motionprobe.config" in _imported(node, package, modules):
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
    assert len([n for n in modules if n.startswith("motionprobe.training.")]) >= 5
