"""Print the import graph of ``src/matinee``: modules, import arrows, circles, arrows running up.

Reads the source as text (``ast``), at a git revision or in the working tree, and never imports it.
Layers, lowest first, follow the architecture the README draws; an arrow "runs back up" when a
module imports one of a higher layer. A circle is a cycle between packages (``matinee.data``,
``matinee.models``, ...).

    python scripts/import_graph.py            # the working tree
    python scripts/import_graph.py --rev 7f0c473 --json
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from collections import defaultdict
from pathlib import Path

LAYERS = (
    (
        "matinee.errors",
        "matinee.types",
        "matinee.settings",
        "matinee.logs",
        "matinee.atomic",
        "matinee.ranking",
        "matinee._openmp",
    ),
    ("matinee.data", "matinee.splitting"),
    ("matinee.training",),
    ("matinee.models",),
    ("matinee.calibration",),
    ("matinee.evaluation", "matinee.recommend"),
    ("matinee.explain", "matinee.store", "matinee.testing"),
    ("matinee.service",),
    ("matinee.cli", "matinee.serve", "matinee.spark", "matinee", "matinee.__main__"),
)
"""Packages by layer, lowest first; ``matinee`` itself (the re-exporting ``__init__``) is on top."""


def _sources(rev: str | None, root: Path) -> dict[str, str]:
    if rev is None:
        paths = sorted((root / "src" / "matinee").rglob("*.py"))
        listed = [str(p.relative_to(root)) for p in paths]
        read = {name: (root / name).read_text(encoding="utf-8") for name in listed}
    else:
        names = subprocess.check_output(
            ["git", "-C", str(root), "ls-tree", "-r", "--name-only", rev, "src/matinee"], text=True
        ).split()
        git_show = ["git", "-C", str(root), "show"]
        read = {
            name: subprocess.check_output([*git_show, f"{rev}:{name}"], text=True)
            for name in names
            if name.endswith(".py")
        }
    modules = {}
    for name, text in read.items():
        module = name[len("src/") : -len(".py")].replace("/", ".")
        modules[module.removesuffix(".__init__")] = text
    return modules


def _arrows(modules: dict[str, str]) -> set[tuple[str, str]]:
    arrows = set()
    for module, text in modules.items():
        for node in ast.walk(ast.parse(text)):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.append(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            arrows |= {(module, t) for t in targets if t in modules and t != module}
    return arrows


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _layer(module: str) -> int:
    package = _package(module)
    for level, names in enumerate(LAYERS):
        if package in names:
            return level
    return 0


def _circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def main() -> None:
    """Print the figures (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="git revision (default: the working tree)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    modules = _sources(args.rev, root)
    arrows = _arrows(modules)
    packages = {(_package(a), _package(b)) for a, b in arrows if _package(a) != _package(b)}
    upward = sorted((a, b) for a, b in arrows if _layer(a) < _layer(b) and _package(a) != "matinee")
    result = {
        "revision": args.rev or "working tree",
        "modules": len(modules),
        "import arrows": len(arrows),
        "package arrows": len(packages),
        "circles between packages": _circles(packages),
        "module circles": _circles(arrows),
        "arrows running back up": [f"{a} -> {b}" for a, b in upward],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        shown = len(value) if isinstance(value, list) else value
        print(f"{key}: {shown}")
        if isinstance(value, list):
            for item in value:
                print(f"  {item}")


if __name__ == "__main__":
    main()
