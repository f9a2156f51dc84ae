"""A generated topology of N=100 (benchmarks/scale.py): every command's output byte for byte as pinned.

The goldens in tests/golden/scale/ were made with the code from before the indexed checks and the
shared router (quadratic in the file's size), so they prove the faster code answers the same.
Regenerate after an intended change, then review the diff:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_scale.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from support import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "scale"
GOLDEN = ROOT / "tests" / "golden" / "scale"
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_BROKER_URL", "CELERY_TOPOLOGY_FILE"))}
CASES: dict[str, tuple[str, ...]] = {  # golden file: the command line, run in tests/data/scale
    "validate.txt": ("--file", "topology-100.yaml", "validate"),
    "validate-problems.txt": ("--file", "problems-100.yaml", "validate"),
    "validate-problems.json": ("--file", "problems-100.yaml", "validate", "--format", "json"),
    "render-systemd.txt": ("--file", "topology-100.yaml", "render", "systemd"),
    "render-systemd-host-3.txt": ("--file", "topology-100.yaml", "render", "systemd", "--host", "host-3"),
    "render-supervisor.txt": ("--file", "topology-100.yaml", "render", "supervisor"),
    "render-supervisor-host-0.txt": ("--file", "topology-100.yaml", "render", "supervisor", "--host", "host-0"),
    "render-kubernetes.txt": ("--file", "topology-100.yaml", "render", "kubernetes"),
    "show.txt": ("--file", "topology-100.yaml", "show"),
    "graph.txt": ("--file", "topology-100.yaml", "graph"),
    "route-glob.json": ("--file", "topology-100.yaml", "route", "svc0001.mod3.cleanup", "--format", "json"),
    "route-exact.txt": ("--file", "topology-100.yaml", "route", "svc0042.tasks.task00042"),
    "route-default.txt": ("--file", "topology-100.yaml", "route", "elsewhere.task"),
}


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("scale", ROOT / "benchmarks" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_as_pinned(name: str) -> None:
    result = run_cli(*CASES[name], cwd=DATA, env=ENV)
    assert result.returncode == (1 if "problems" in name else 0), result.stderr
    assert result.stderr == ""
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text(), f"{golden} differs; see the module docstring to regenerate"


def test_every_check_has_a_deliberate_problem() -> None:
    """The problems file exercises each rule that relates parts of the file (the ones that grow with it)."""
    text = (GOLDEN / "validate-problems.txt").read_text()
    for code in (
        "queue-undeclared",
        "queue-unconsumed",
        "beat-unconsumed",
        "soft-limit",
        "hostname-duplicate",
        "route-duplicate-pattern",
        "route-shadowed",
        "route-exact-glob",
        "time-limit-unenforced",
        "pool-time-limit-overridden",
        "yaml-ambiguous",
    ):
        assert f"[{code}]" in text, code


@pytest.mark.parametrize("problems", [False, True])
def test_the_generator_makes_the_pinned_files(problems: bool) -> None:
    generate = _generator().generate  # type: ignore[attr-defined]
    name = "problems-100.yaml" if problems else "topology-100.yaml"
    assert generate(100, problems) == (DATA / name).read_text()


def test_render_check_finds_the_rendered_units_up_to_date(tmp_path: Path) -> None:
    args = ("--file", "topology-100.yaml", "render", "systemd", "-o", tmp_path)
    written = run_cli(*args, cwd=DATA, env=ENV)
    assert written.returncode == 0, written.stderr
    checked = run_cli(*args, "--check", cwd=DATA, env=ENV)
    assert (checked.returncode, checked.stdout) == (0, f"{tmp_path}: up to date (102 files)\n")
