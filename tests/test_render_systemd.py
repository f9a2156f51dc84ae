"""Rendered systemd units against systemd's own checkers: `systemd-analyze verify` and `security`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from celery_topology import load
from celery_topology.render import RenderedFile, render

from support import ROOT

SYSTEM_UNITS = Path("/usr/lib/systemd/system")
TOPOLOGIES = {
    "shipped": ROOT / "topology.yaml",
    "large": ROOT / "tests/data/large.yaml",
    "k8s-redis": ROOT / "tests/data/k8s-redis.yaml",  # a pool with watchdog: Type=notify
}
MAX_EXPOSURE = 1.5


def install(root: Path, files: list[RenderedFile]) -> list[Path]:
    """A fake root: the host's system units, ours in /etc/systemd/system, a stub at every ExecStart path."""
    if not (root / "usr/lib/systemd/system").exists():
        shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        (units / f.path).write_text(f.text)
        paths.append(units / f.path)
        for exe in re.findall(r"^ExecStart=(\S+)", f.text, re.M):
            stub = root / (exe.lstrip("/") if exe.startswith("/") else f"usr/bin/{exe}")  # a command: found on PATH
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\nexit 0\n")
            stub.chmod(0o755)
    return paths


def verify(root: Path, units: list[Path]) -> subprocess.CompletedProcess[str]:
    argv = ["systemd-analyze", "verify", "--recursive-errors=yes", f"--root={root}", *map(str, units)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def units_of(name: str) -> list[RenderedFile]:
    return render(load(TOPOLOGIES[name], environ={}), "systemd", TOPOLOGIES[name].name)


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_every_unit_passes_verify(tmp_path: Path, name: str) -> None:
    units = install(tmp_path, units_of(name))
    result = verify(tmp_path, units)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("KillMode=mixed", "KillMode=mixd"), "Failed to parse kill mode"),
        (("TimeoutStopSec=", "TimeoutStopSecs="), "Unknown key 'TimeoutStopSecs'"),
        (("ExecStart=/srv/", "ExecStart=/nowhere/"), "is not executable"),
    ],
)
def test_verify_has_teeth(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    worker = next(f for f in units_of("shipped") if f.path.endswith("-worker-agent.service"))
    (unit,) = install(tmp_path, [worker])
    assert verify(tmp_path, [unit]).returncode == 0
    unit.write_text(worker.text.replace(*change))
    result = verify(tmp_path, [unit])
    assert result.returncode != 0
    assert message in result.stderr


def exposure(root: Path, unit: Path) -> tuple[float, int]:
    argv = ["systemd-analyze", "security", "--offline=true", "--threshold=15", f"--root={root}", str(unit)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert score, result.stdout + result.stderr
    return float(score.group(1)), result.returncode


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_service_units_are_hardened(tmp_path: Path, name: str) -> None:
    units = [u for u in install(tmp_path, units_of(name)) if u.suffix == ".service"]
    assert any("-worker-" in u.name for u in units)
    for unit in units:
        score, code = exposure(tmp_path, unit)
        assert code == 0
        assert score <= MAX_EXPOSURE, f"{unit.name} scores {score}"


def test_a_bare_unit_scores_far_worse(tmp_path: Path) -> None:
    """The measure itself discriminates: the same worker without the sandbox is over the threshold."""
    worker = next(f for f in units_of("shipped") if f.path.endswith("-worker-agent.service"))
    bare = re.sub(r"^# Sandboxing.*?UMask=0077\n", "", worker.text, flags=re.S | re.M)
    (unit,) = install(tmp_path, [RenderedFile(worker.path, bare)])
    score, _ = exposure(tmp_path, unit)
    assert score > 9


def test_celery_percent_is_doubled_and_the_target_wants_every_service() -> None:
    files = {f.path: f.text for f in units_of("shipped")}
    agent = files["agentic-clinical-assistant-worker-agent.service"]
    assert "--hostname=agent-worker@%%h " in agent
    target = files["agentic-clinical-assistant.target"]
    services = sorted(p for p in files if p.endswith(".service"))
    assert sorted(re.findall(r"^Wants=(\S+)$", target, re.M)) == services
