"""The package's layers, checked from the source: which package may import which, and no cycles.

docs/architecture.md draws the map this test enforces. Every import counts — at module level or
inside a function (a lazy import is still a dependency) — except those under
``if TYPE_CHECKING:``, which only annotate. A package may import packages of lower layers only;
the kernels and the measures import nothing but NumPy, Numba (kernels) and the standard library
pieces listed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "riskengine"

#: Layer of each top-level package or module of riskengine (lower layers never import higher).
LAYERS: dict[str, int] = {
    "errors": 0,
    "files": 1,
    "kernels": 1,
    "measures": 1,
    "scenario": 2,
    "book": 3,
    "portfolio": 4,
    "analytic": 5,  # above portfolio: it reads books through portfolio.resolve
    "results": 5,
    "run": 6,
    "tail": 7,
    "allocation": 8,
    "reinsurance": 9,
    "pricing": 9,
    "limits": 9,
    "stress": 9,
    "monitoring": 9,
    "report": 10,
    "jobs": 11,
    "cli": 12,
}

#: Third-party and standard-library modules the pure layers may import.
PURE = {
    "kernels": {
        "numpy",
        "numba",
        "math",
        "typing",
        "__future__",
        "hashlib",
        "os",
        "pathlib",
        "dataclasses",
    },
    "measures": {"numpy", "math", "typing", "__future__", "dataclasses", "collections"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC.parent).with_suffix("")
        parts = rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    return skip


def _imports(module: str) -> list[str]:
    """Absolute names of everything ``module`` imports at run time."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names.append(target)
                if not node.module:  # from . import x: x may be a module
                    names += [f"{target}.{a.name}" for a in node.names]
            else:
                names.append(node.module or "")
                names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _internal(name: str) -> str | None:
    """The riskengine module ``name`` refers to (None for other packages)."""
    while name and name not in MODULES:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name or None


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_package_has_a_layer() -> None:
    tops = {_top(m) for m in MODULES} - {""}
    missing = sorted(t for t in tops if t not in LAYERS)
    assert not missing, f"add these to LAYERS (and to docs/architecture.md): {missing}"


def test_lower_layers_never_import_higher_ones() -> None:
    bad = []
    checked = 0
    for module in MODULES:
        top = _top(module)
        if not top:  # riskengine/__init__.py: the lazy public API may name anything
            continue
        for name in _imports(module):
            target = _internal(name)
            if target is None or _top(target) in ("", top):
                continue
            checked += 1
            if LAYERS[_top(target)] >= LAYERS[top]:
                bad.append(f"{module} imports {target}")
    assert checked > 50  # the walk found the package's imports
    assert not bad, "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_layers_import_only_their_libraries(package: str) -> None:
    bad = []
    for module in MODULES:
        if _top(module) != package:
            continue
        for name in _imports(module):
            if _internal(name) is not None:
                continue  # within riskengine: the layer test checks those
            if name.split(".")[0] not in PURE[package]:
                bad.append(f"{module} imports {name}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles_between_modules() -> None:
    graph = {m: set() for m in MODULES}
    for m in MODULES:
        for name in _imports(m):
            t = _internal(name)
            if t is not None and t != m:
                graph[m].add(t)
    # a package's __init__ is imported before its modules: edges from a module to its own
    # package's __init__ are how Python imports it, not a dependency cycle of the code
    for m in graph:
        graph[m] = {t for t in graph[m] if not (m.startswith(t + "."))}
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for t in graph[m]:
            if seen.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            visit(m)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """A higher-layer import is found (the walk sees function-level imports too)."""
    assert "riskengine.jobs" in {_internal(n) for n in _imports("riskengine.cli.run")}
    assert LAYERS["cli"] > LAYERS["jobs"]
    names = _imports("riskengine.results.model")
    assert "riskengine.results.summary" in {_internal(n) for n in names}  # a lazy import
