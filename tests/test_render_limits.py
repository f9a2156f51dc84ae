"""Stop timeouts above the longest limit a pool's tasks can have; --host refused when the file names no hosts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from celery_topology import load
from celery_topology.render import render

DEPLOY = "deploy: {name: shop, user: shop, working_directory: /opt/shop, celery: /opt/shop/venv/bin/celery}\n"
OVERRIDDEN = Path(__file__).parent / "data/valid/pool-time-limit-overridden.yaml"


def stop_seconds(file: Path) -> dict[str, str]:
    units = {f.path: f.text for f in render(load(file, environ={}), "systemd", file.name)}
    return {
        name: next(line for line in text.splitlines() if line.startswith("TimeoutStopSec="))
        for name, text in units.items()
        if name.startswith("shop-worker-")
    }


def test_stop_timeout_is_above_the_tasks_own_limits_not_the_pools(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(OVERRIDDEN.read_text() + DEPLOY)
    assert stop_seconds(file) == {
        "shop-worker-default.service": "TimeoutStopSec=1830",  # defaults 30m, not the pool's 60 s
        "shop-worker-reports.service": "TimeoutStopSec=3330",  # the pool's 55m is the longest
        "shop-worker-urgent.service": "TimeoutStopSec=3030",  # beat entry queued here, routed limit 50m
    }


def test_host_is_refused_when_the_file_names_no_hosts(tmp_path: Path) -> None:
    from celery_topology.cli import main

    file = tmp_path / "t.yaml"
    file.write_text(OVERRIDDEN.read_text() + DEPLOY)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--file", str(file), "render", "systemd", "-o", str(out), "--host", "app-1"])
    assert result.exit_code == 2  # a usage error: the file is fine, the argument is not
    assert result.output.endswith(
        "Error: Invalid value for --host: the topology names no hosts (pools.*.hosts / beat.host); render without --host\n"
    )
    assert not out.exists() or not any(out.iterdir())
    with_beat_host = tmp_path / "b.yaml"
    with_beat_host.write_text(file.read_text().replace("beat:\n", "beat:\n  host: app-1\n"))
    names = {f.path for f in render(load(with_beat_host, environ={}), "systemd", "b", "app-1")}
    assert "shop-beat.service" in names
