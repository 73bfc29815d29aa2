"""The package's shape (issue 12): no import circles, a small root, and a map that matches.

Imports are read with ``ast``, not by importing, so a lazy import inside a function counts
as much as one at the top: a circle hidden in a function body is still a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import switchboard

PACKAGE = Path(switchboard.__file__).resolve().parent
REPO = Path(__file__).resolve().parents[2]
MAX_ROOT_MODULES = 6
"""``__init__``, ``__main__`` and the cross-cutting few (app, events, clock, logs)."""


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["switchboard", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = package[: len(package) - node.level + 1]
    return ".".join([*anchor, node.module] if node.module else anchor)


def _within(name: str, modules: Mapping[str, Path]) -> str | None:
    """The switchboard module ``name`` lands in (``a.b.C`` -> ``a.b``), if any."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """Module -> the switchboard modules it imports (a package's ``__init__`` by its name)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(node, module, is_package)
                # ``from pkg import mod`` imports mod; ``from mod import name`` imports mod.
                names += [f"{base}.{alias.name}" for alias in node.names]
        targets = {found for name in names if (found := _within(name, modules))}
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_sees_a_circle_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_sees_lazy_and_from_package_imports() -> None:
    graph = import_graph()
    assert "switchboard.cli.demo" in graph["switchboard.cli"]  # imported inside a function
    assert "switchboard.http.pages_admin" in graph["switchboard.http.app"]  # from pkg import mod


def test_no_switchboard_modules_import_each_other_in_a_circle() -> None:
    assert cycles(import_graph()) == []


def test_the_package_root_keeps_only_a_few_cross_cutting_modules() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, f"the package root holds {root}: fold some into a package"


def test_docs_architecture_names_every_folder_and_root_module() -> None:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    entries = [
        f"{p.name}/" if p.is_dir() else p.name
        for p in sorted(PACKAGE.iterdir())
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and not p.name.startswith("__"))
    ]
    missing = [entry for entry in entries if f"`{entry}`" not in text and f" {entry} " not in text]
    assert missing == [], f"docs/architecture.md does not mention {missing}"
