"""The import graph, read with `ast` from the sources (imports inside functions count too): data
flows one way, core -> training -> quantize, core -> app, and the CLI on top of everything.

    core      lcr_edge/ (model, preprocess, edges, runtime, events, actions, sources, ...)
    training  training/ (installs as lcr_edge.training)   may import core
    quantize  quantize/ (lcr_edge.quantize)               may import core, training
    app       app/ (lcr_edge.app)                         may import core
    cli       lcr_edge/cli.py, lcr_edge/commands/, lcr_edge/__main__.py: may import anything, and
              nothing imports them
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FOLDERS = {"lcr_edge": "lcr_edge", "training": "lcr_edge.training",
           "quantize": "lcr_edge.quantize", "app": "lcr_edge.app"}  # folder -> installed package
MAY_IMPORT = {"core": {"core"}, "training": {"core", "training"},
              "quantize": {"core", "training", "quantize"}, "app": {"core", "app"},
              "cli": {"core", "training", "quantize", "app", "cli"}}


def module_files() -> dict[str, Path]:
    """Installed module name -> its source file, for every module of the four folders."""
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


MODULES = module_files()


def layer(module: str) -> str:
    for name in ("training", "quantize", "app"):
        if module == f"lcr_edge.{name}" or module.startswith(f"lcr_edge.{name}."):
            return name
    if module in ("lcr_edge.cli", "lcr_edge.__main__", "lcr_edge.commands") \
            or module.startswith("lcr_edge.commands."):
        return "cli"
    return "core"


def imported_names(module: str, tree: ast.AST) -> list[tuple[str, int]]:
    """(dotted name, line) of every import in the module, wherever it is; `from X import Y` gives
    X.Y (a submodule, or a name that `resolve` maps back to X); `importlib.import_module("X")`
    with a literal name counts too."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out.append((node.args[0].value, node.lineno))
    return out


def resolve(name: str) -> str | None:
    """The project module a dotted name lands in (its longest known prefix), None if outside."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return None


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {module it imports: line of the first such import}."""
    graph = {}
    for module, path in MODULES.items():
        edges: dict[str, int] = {}
        for name, line in imported_names(module, ast.parse(path.read_text("utf-8"), str(path))):
            target = resolve(name)
            if target is not None and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


GRAPH = import_graph()


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def wrong_way(graph: dict[str, dict[str, int]]) -> list[str]:
    """'a (layer) -> b (layer) at a's line N' for every arrow the layers do not allow."""
    return [f"{a} ({layer(a)}) -> {b} ({layer(b)}) at line {line}"
            for a, edges in sorted(graph.items()) for b, line in sorted(edges.items())
            if layer(b) not in MAY_IMPORT[layer(a)]]


def test_the_graph_is_read_from_every_module():
    assert len(MODULES) > 50 and {"lcr_edge.engine", "lcr_edge.training.train",
                                  "lcr_edge.quantize.pipeline", "lcr_edge.app.window",
                                  "lcr_edge.model", "lcr_edge.training.synth.render"} <= set(MODULES)
    # the kinds of import the checks rely on are seen: top-level, inside a function, relative-free
    # `from package import module`, and importlib with a literal name
    assert "lcr_edge.events" in GRAPH["lcr_edge.engine"]
    assert "lcr_edge.app" in GRAPH["lcr_edge.commands.gui"]
    assert "lcr_edge.model.wkv_cuda" in GRAPH["lcr_edge.model.wkv"]
    assert {"lcr_edge.app.settings", "lcr_edge.app.window"} <= set(GRAPH["lcr_edge.app"])


def test_no_module_is_imported_by_a_name_that_does_not_install():
    """training/, quantize/ and app/ install inside lcr_edge: `import training` breaks in a wheel."""
    bad = [f"{module}: {name} at line {line}" for module, path in MODULES.items()
           for name, line in imported_names(module, ast.parse(path.read_text("utf-8")))
           if name.split(".")[0] in ("training", "quantize", "app")]
    assert not bad, "imports of uninstalled names:\n" + "\n".join(bad)


def test_there_are_no_import_cycles():
    found = cycles(GRAPH)
    assert not found, "import cycles:\n" + "\n".join(
        " <-> ".join(c) + ": " + "; ".join(f"{a} -> {b} (line {GRAPH[a][b]})" for a in c
                                            for b in c if b in GRAPH[a]) for c in found)


def test_imports_go_one_way_between_core_training_quantize_app_and_cli():
    bad = wrong_way(GRAPH)
    assert not bad, "imports against the layers' direction:\n" + "\n".join(bad)


@pytest.mark.parametrize("graph, expect", [
    ({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}, [["a", "b", "c"]]),
    ({"a": {"b": 1}, "b": {}, "c": {"b": 2}}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expect):
    assert cycles(graph) == expect


def test_the_layer_check_names_a_wrong_way_arrow():
    graph = {"lcr_edge.events": {"lcr_edge.training.train": 7}, "lcr_edge.training.train": {},
             "lcr_edge.quantize.qat": {"lcr_edge.training.train": 3}}
    assert wrong_way(graph) == ["lcr_edge.events (core) -> lcr_edge.training.train (training) "
                                "at line 7"]
