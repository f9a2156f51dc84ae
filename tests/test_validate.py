from __future__ import annotations

import subprocess
from pathlib import Path

from celery_topology import TopologyError, load

from support import BIN, ROOT

CLI = str(BIN / "celery-topology")


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_shipped_topology_is_valid() -> None:
    topology = load(ROOT / "topology.yaml", environ={})
    assert list(topology.queues) == ["default", "agent", "ingestion", "evaluation", "benchmark"]
    assert topology.pools["agent"].concurrency == 8
    assert topology.defaults.retry is not None and topology.defaults.retry.delay == 60
    result = run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "topology.yaml: valid: 5 queues, 3 routes, 4 pools, 1 beat entries\n"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "topology.yaml"
    bad.write_text(
        "version: 1\n"
        "app: my.app\n"
        "broker: {url: 'redis://localhost/0'}\n"
        "queues: {default: {}}\n"
        "pools:\n"
        "  default: {queues: [default], concurency: 2}\n"
        "  other: {queues: [default], pool: proc}\n"
    )
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "topology.yaml:6:32: pools.default.concurency: unknown key 'concurency' (did you mean 'concurrency'?) [unknown-key]",
        "topology.yaml:7:36: pools.other.pool: must be 'prefork', 'threads', 'solo', 'gevent' or 'eventlet' [value]",
    ]
    try:
        load(bad)
    except TopologyError as exc:
        assert len(exc.problems) == 2
    else:
        raise AssertionError("load accepted a broken topology")
