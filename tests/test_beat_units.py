"""The production environment's units: a beat on each of beat.hosts, every unit verified by systemd and parsed by supervisor."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from test_render_run import for_this_machine, parsed_programs, supervisord_conf
from test_render_systemd import install, verify

from celery_topology import load
from celery_topology.render import render

from support import ROOT


def production() -> list[str]:
    topology = load(ROOT / "topology.yaml", environ={}, env="production")
    return [h for h in ("worker-1", "worker-2", "agent-1") if "beat" in str(render(topology, "systemd", "t", h))]


def test_beat_renders_on_every_beat_host_and_nowhere_else() -> None:
    assert production() == ["worker-1", "worker-2"]


@pytest.mark.parametrize("host", ["worker-1", "worker-2"])
def test_production_units_pass_verify(tmp_path: Path, host: str) -> None:
    topology = load(ROOT / "topology.yaml", environ={}, env="production")
    units = install(tmp_path, render(topology, "systemd", "topology.yaml", host))
    result = verify(tmp_path, units)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""


def test_supervisor_parses_the_production_programs_with_their_environment() -> None:
    with tempfile.TemporaryDirectory(prefix="ct-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        topology = for_this_machine(load(ROOT / "topology.yaml", environ={}, env="production"), directory)
        (rendered,) = render(topology, "supervisor", "topology.yaml", "worker-2")
        (directory / rendered.path).write_text(rendered.text)
        programs = parsed_programs(supervisord_conf(directory, directory / rendered.path))
    beat = programs["agentic-clinical-assistant-beat"]
    assert beat.environment["CELERY_TOPOLOGY_ENV"] == "production"  # type: ignore[attr-defined]
    assert "--scheduler=redbeat.schedulers:RedBeatScheduler" in beat.command  # type: ignore[attr-defined]
    assert sorted(programs) == ["agentic-clinical-assistant-beat", "agentic-clinical-assistant-worker-default"]
