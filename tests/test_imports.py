"""The package's structure drawn from its imports: every import of `compiler/` and `backends/` resolves
to a module of the repository (relative, or `hwc.` through the package map in pyproject.toml), there
are no import circles (counting imports inside functions too: a tool drawing the structure sees them),
and nothing in `backends/` imports `compiler/commands` (backends read CompileOptions, never the CLI)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx

from conftest import ROOT

PACKAGES = {"hwc.compiler": ROOT / "compiler", "hwc.backends": ROOT / "backends"}


def modules() -> dict[str, Path]:
    out = {}
    for pkg, d in PACKAGES.items():
        for f in sorted(d.rglob("*.py")):
            parts = list(f.relative_to(d).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([pkg, *parts])] = f
    return out


def _resolve(name: str, known) -> str | None:
    """The longest known module that `name` is or lies in (`hwc.compiler.ir.graph.Graph` → ...graph)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _runtime_nodes(tree):
    """Every node except those under `if TYPE_CHECKING:` (imports for annotations only)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    yield from ast.walk(tree)


@functools.lru_cache(maxsize=1)
def import_graph() -> nx.DiGraph:
    mods = modules()
    g = nx.DiGraph()
    g.add_nodes_from(mods)
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{a.name}" for a in node.names]
            for t in targets:
                if t.startswith("hwc."):
                    dep = _resolve(t, mods)
                    assert dep is not None, f"{path.relative_to(ROOT)}: import {t} resolves to no module of the repository"
                    if dep != mod:
                        g.add_edge(mod, dep)
    return g


def test_every_module_is_drawn():
    g = import_graph()
    assert "hwc.compiler.options" in g and "hwc.backends.base" in g
    assert g.has_edge("hwc.backends.base", "hwc.compiler.options")  # backends are connected to the compiler


def test_no_import_circles():
    cycles = sorted(sorted(c) for c in nx.simple_cycles(import_graph()))
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles[:10])


def test_backends_never_import_the_command_line():
    bad = [(a, b) for a, b in import_graph().edges if a.startswith("hwc.backends") and b.startswith("hwc.compiler.commands")]
    assert not bad, bad
