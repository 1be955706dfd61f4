"""The layers of src/postmetric point down: web and the entry points → the domain packages → store →
the base modules. Every `import` counts, at the top of a module, inside a function or under
TYPE_CHECKING, so a lazy import cannot hide an upward dependency or a cycle.

The domain packages may use each other, and no module may take part in an import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SOURCE / "postmetric"

# Highest first; a module may import its own layer and the ones below.
LAYERS = (
    ("top", ("postmetric.web", "postmetric.cli", "postmetric.app", "postmetric.__main__")),
    ("domain", ("postmetric.ingest", "postmetric.stats", "postmetric.revenue", "postmetric.sites",
                "postmetric.accounts", "postmetric.privacy", "postmetric.integrations", "postmetric.reports",
                "postmetric.demo", "postmetric.jobs")),
    ("store", ("postmetric.store",)),
    ("base", ("postmetric.config", "postmetric.errors", "postmetric.time_window", "postmetric.secrets_box",
              "postmetric.mail", "postmetric")),
)


def layer(module: str) -> int:
    """The module's layer, 0 the highest."""
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes if prefix != "postmetric"):
            return rank
    if module == "postmetric":
        return len(LAYERS) - 1
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS in tests/test_layers.py")


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[int, str]]:
    """(line, module) of every postmetric module `name` imports, wherever the import stands."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from package import module` imports the module; `from module import name`, the module.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import postmetric.a.b` as `a.b`'s module
                target = target.rpartition(".")[0]
            if target.startswith("postmetric"):
                found.append((node.lineno, target))
    return found


def upward_imports(root: Path = PACKAGE) -> list[str]:
    known = modules(root)
    return [f"{path.relative_to(root.parent)}:{line}: {name} ({LAYERS[layer(name)][0]}) imports {target}"
            f" ({LAYERS[layer(target)][0]})"
            for name, path in known.items() for line, target in imports(name, path, known)
            if layer(target) < layer(name)]


def import_cycles(root: Path = PACKAGE, *, packages: bool = False) -> list[list[str]]:
    """The strongly connected groups of modules importing each other (package __init__ modules
    left out: importing `a.b` runs `a/__init__.py`, which is not a dependency of `a.b`'s code).
    With `packages`, the groups of top-level packages (postmetric.stats, …) that use each other."""
    known = modules(root)

    def unit(module: str) -> str:
        return ".".join(module.split(".")[:2]) if packages else module

    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        if path.name == "__init__.py":
            continue
        targets = graph.setdefault(unit(name), set())
        targets.update(unit(target) for _, target in imports(name, path, known)
                       if unit(target) != unit(name) and known[target].name != "__init__.py")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph.get(node, ())):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


def test_no_modules_import_each_other_in_a_cycle():
    assert import_cycles() == []


def test_no_domain_packages_use_each_other_in_a_cycle():
    """Domain packages stack too: sites defines goals and funnels, which ingest and stats use.
    (The top layer is the composition root: `app` builds the web routes that `web.server` serves.)"""
    domain = LAYERS[1][1]
    assert [cycle for cycle in import_cycles(packages=True) if any(unit in domain for unit in cycle)] == []


@pytest.mark.parametrize("source, problem", [
    ("def later():\n    from postmetric.web.responses import json_response\n", "upward"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from postmetric.revenue.ledger import Payment\n",
     "upward"),
    ("from postmetric.store import other\n", "cycle"),
])
def test_the_checks_see_imports_wherever_they_stand(tmp_path, source, problem):
    root = tmp_path / "postmetric"
    for package in ("", "store", "web", "revenue"):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "web" / "responses.py").write_text("")
    (root / "revenue" / "ledger.py").write_text("")
    (root / "store" / "other.py").write_text("def f():\n    from postmetric.store import events\n")
    (root / "store" / "events.py").write_text(source)
    if problem == "upward":
        assert upward_imports(root) and not import_cycles(root)
    else:
        assert import_cycles(root) == [["postmetric.store.events", "postmetric.store.other"]]
