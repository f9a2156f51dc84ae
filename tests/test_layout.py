"""The package's shape: stages import only downwards, no module imports itself back, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PACKAGE = ROOT / "celery_topology"
# What each stage may import from the package (besides itself); see celery_topology/__init__.py.
ALLOWED = {
    "topology": set(),
    "runtime": {"topology"},
    "render": {"topology"},
    "cluster": {"topology", "runtime"},
    "adopt": {"topology", "runtime"},
    "cli": {"topology", "runtime", "render", "cluster", "adopt"},
}
MAX_LINES = 300


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every package module `path` imports, at any depth of the file (function-level imports too)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base.startswith("celery_topology"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    is_module = (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists()
                    found.add(candidate if is_module else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("celery_topology")}
    return found - {module}


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def test_stages_import_only_downwards() -> None:
    wrong = []
    for module, imports in GRAPH.items():
        stage = _stage(module)
        if stage is None:
            continue
        for target in imports:
            other = _stage(target)
            if other not in (None, stage) and other not in ALLOWED[stage]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_import_cycle() -> None:
    """Depth-first search for a back edge between package modules (package __init__ files left out:
    importing a submodule imports its package first, which is not a dependency of the code)."""
    graph = {
        m: {t for t in ts if t in GRAPH and not (PACKAGE / "/".join(t.split(".")[1:]) / "__init__.py").exists()}
        for m, ts in GRAPH.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_modules_stay_small() -> None:
    long = {
        str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checker_sees_the_layout() -> None:
    """The graph above is not empty by mistake: known edges are in it."""
    assert "celery_topology.topology.model" in GRAPH["celery_topology.topology.routing"]
    assert "celery_topology.runtime.config" in GRAPH["celery_topology.cluster.observe"]


def test_celery_internals_are_fenced() -> None:
    """Celery and kombu are pinned to a range with an upper bound, this run's versions lie in it, and CI's
    second run (the `celery_internals` tests) installs exactly the range's lowest versions."""
    import tomllib
    from importlib.metadata import version

    from packaging.requirements import Requirement

    requirements = {
        r.name: r
        for r in map(Requirement, tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    }
    ci = (ROOT / ".ci" / "run").read_text()
    for name in ("celery", "kombu"):
        bounds = {spec.operator: spec.version for spec in requirements[name].specifier}
        assert set(bounds) == {">=", "<"}, f"{name}: {requirements[name]}"
        assert requirements[name].specifier.contains(version(name)), (
            f"{name} {version(name)} outside {requirements[name]}"
        )
        pinned = "'celery[redis]" if name == "celery" else f"'{name}"
        assert f"{pinned}=={bounds['>=']}'" in ci, f".ci/run does not test {name} {bounds['>=']}"
