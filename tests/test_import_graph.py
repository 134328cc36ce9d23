"""The import graph of the project's packages (导入关系): no cycles, and the layering holds.

Built from the source with :mod:`ast`, so it sees every import a running program can make — at module level and
inside functions, and ``importlib.import_module("…")`` with a literal name. Imports under
``if TYPE_CHECKING:`` never run and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "siting", "geoservice")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, package: str) -> Iterator[str]:
    """Dotted names imported anywhere in ``tree`` except under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imported_names(child, package))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value
        yield from _imported_names(node, package)


def import_graph() -> nx.DiGraph:
    """Module → module it imports, for every module of :data:`PACKAGES` (package ``__init__`` as the package)."""
    modules = _modules()
    graph = nx.DiGraph()
    for module, path in modules.items():
        graph.add_node(module)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for name in _imported_names(ast.parse(path.read_text(encoding="utf-8")), package):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            # a module importing its own package's ``__init__`` (or one above it) is not a dependency cycle
            if name and name != module and not module.startswith(f"{name}."):
                graph.add_edge(module, name)
    return graph


def test_import_graph__has_no_cycle() -> None:
    graph = import_graph()
    cycles = [" → ".join([*c, c[0]]) for c in nx.simple_cycles(graph, length_bound=8)]
    assert cycles == [], "import cycles / 循环导入:\n" + "\n".join(sorted(cycles))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        pytest.param("layers", ("siting", "geoservice"), id="layers"),
        pytest.param("siting", ("geoservice",), id="siting"),
    ],
)
def test_import_graph__layers_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    graph = import_graph()
    back_edges = [
        f"{a} → {b}" for a, b in graph.edges if a.split(".")[0] == package and b.split(".")[0] in forbidden
    ]
    assert back_edges == []


def test_import_graph__sees_function_level_imports() -> None:
    # the CLI imports its commands, whose imports sit partly inside functions
    graph = import_graph()
    assert graph.has_edge("geoservice.cli", "geoservice.commands.names")
    assert graph.has_edge("geoservice.commands.users", "geoservice.users")
