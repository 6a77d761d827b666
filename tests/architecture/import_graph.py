"""The import graph of the ``evalint`` package, read from the source with :mod:`ast`.

Every ``import`` and ``from ... import`` statement in ``evalint/`` counts, at module level or inside
a function (a function-level import is still a dependency, only a later one). Run it as a script to
print the graph by layer and what breaks the layer order::

    python tests/architecture/import_graph.py

The layer order is the one ARCHITECTURE.md states; ``LAYERS`` below is its single source.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "evalint"

#: Layers, lowest first. A module may import from its own layer or any lower one, never from a
#: higher one. The key is the first component below ``evalint`` (``evalint.data.panel`` -> ``data``);
#: ``evalint`` itself (the package ``__init__``) is the top: it re-exports the public API.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_typing", "_version", "_output", "_parallel", "_forked", "_deferred", "_distributions"),
    ("outcomes",),
    ("data",),
    ("geography", "datasets", "io", "diagnostics", "records"),
    ("calendar",),
    ("inference",),
    ("results",),
    ("estimators",),
    ("evaluate", "replication", "design", "matching"),
    ("plotting", "report"),
    ("sensitivity",),
    ("demo", "cli", "__main__"),
    ("evalint",),
)

LAYER_OF: dict[str, int] = {name: i for i, names in enumerate(LAYERS) for name in names}


def modules(root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file below ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(module: str, node: ast.AST, is_package: bool, known: dict[str, Path]) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names if alias.name.split(".")[0] == "evalint"]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source.split(".")[0] != "evalint":
            return []
        for alias in node.names:
            candidate = f"{source}.{alias.name}"
            names.append(candidate if candidate in known else source)
    resolved = []
    for name in names:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        if name != module:
            resolved.append(name)
    return resolved


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    """Module -> the evalint modules it imports (anywhere in its source)."""
    known = modules(root)
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(_targets(module, node, path.name == "__init__.py", known))
        graph.setdefault(module, set())
    return dict(graph)


def area(module: str) -> str:
    """The layer key of a module: its first component below ``evalint``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "evalint"


def unplaced(graph: dict[str, set[str]]) -> list[str]:
    """Areas with no layer in ``LAYERS`` (a new top-level module must be given one)."""
    return sorted({area(m) for m in graph} - set(LAYER_OF))


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where the imported module sits in a higher layer."""
    out = []
    for module, targets in graph.items():
        for target in targets:
            low, high = LAYER_OF.get(area(module)), LAYER_OF.get(area(target))
            if low is not None and high is not None and high > low:
                out.append((module, target))
    return sorted(out)


def cycles(graph: dict[str, set[str]], root: Path = PACKAGE_ROOT) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted.

    Package ``__init__`` modules are left out: re-exporting a submodule's names from the package
    that contains it is not a dependency of the package on itself.
    """
    packages = {m for m in graph if (root.parent / m.replace(".", "/") / "__init__.py").exists()}
    nodes = [m for m in graph if m not in packages]
    edges = {m: [t for t in graph[m] if t not in packages] for m in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def main() -> int:
    graph = import_graph()
    for i, names in enumerate(LAYERS):
        print(f"layer {i}: {', '.join(names)}")
    print()
    for module, target in upward_imports(graph):
        print(f"upward: {module} -> {target}")
    for component in cycles(graph):
        print("cycle: " + " <-> ".join(component))
    for name in unplaced(graph):
        print(f"no layer: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
