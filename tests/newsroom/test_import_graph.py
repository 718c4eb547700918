"""No import circle between the project's modules, counting imports inside functions (which
hide a circle from the interpreter but do not remove it); `if TYPE_CHECKING:` imports aside."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("newsroom", "donations", "newsletter")


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_names(tree: ast.AST, package: str) -> set[tuple[str, str]]:
    """(module, name) per import: `import a.b` is ("a.b", ""), `from a import b` ("a", "b")."""
    names: set[tuple[str, str]] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import):
            names.update((alias.name, "") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.update((base, alias.name) for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return names


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for module, attribute in imported_names(ast.parse(path.read_text()), package):
            # `from a.b import c`: the module a.b.c if there is one, else a.b itself.
            imported = f"{module}.{attribute}" if f"{module}.{attribute}" in modules else module
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of the graph, or nothing."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def test_the_scan_sees_imports_inside_functions() -> None:
    tree = ast.parse("def f():\n    from donations.services import payments\n")
    assert ("donations.services", "payments") in imported_names(tree, "x")
    assert sorted(circle({"a": {"b"}, "b": {"a"}, "c": set()})) == ["a", "a", "b"]
    assert circle({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_project_is_part_of_an_import_circle() -> None:
    graph = import_graph()
    assert len(graph) > 100
    assert circle(graph) == []
