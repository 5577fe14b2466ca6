"""The package's shape, checked: every module sits in a layer, no import cycles anywhere, no private
names taken from another module. (The layers themselves are import-linter's contracts, run by
`make lint`; these are the checks it does not make.)"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp

from pipelines.core.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "pipelines"


def layer_packages() -> set[str]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return {name.strip() for layer in layers for name in layer.split("|")}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_every_module_sits_in_a_layer() -> None:
    packages = layer_packages()
    loose = [
        str(path.relative_to(REPO_ROOT))
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "__init__.py"
        and "pipelines." + path.relative_to(PACKAGE).parts[0] not in packages
    ]
    assert loose == [], f"modules outside every layer of pyproject's import contract: {loose}"


def test_no_import_cycles_anywhere_in_the_package() -> None:
    graph = grimp.build_graph("pipelines")
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert strongly_connected(imports) == []


def private_imports(path: Path) -> list[str]:
    """`from pipelines.x import _y`, and `x._y` where `x` is a pipelines module imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipelines"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(
                a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("pipelines")
            )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_the_private_import_finder_finds_one(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from pipelines.gate import intake\nfrom pipelines.core.x import _y\nintake._open()\n")
    assert private_imports(module) == ["pipelines.core.x._y", "intake._open"]


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): found
        for path in PACKAGE.rglob("*.py")
        if (found := private_imports(path))
    }
    assert offenders == {}
