"""`celery-topology probe` against real workers: the heartbeat comes from the consumer loop, so
busy prefork children or a long solo task do not make a worker look dead, a stopped loop does,
and a broker outage makes it not ready while it stays live. systemd's watchdog gets the beats too."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from celery_topology import configure, load

from support import Process, RedisServer, run_cli, start_worker, wait_for, worker_env

WINDOW = 5  # seconds: the probe's --window in these tests (beats every 0.5 s)
APP = """
import time
from celery import Celery
from celery_topology import configure, load

app = Celery("hbapp")
configure(app)


@app.task(name="hb.sleep")
def sleep(seconds):
    time.sleep(seconds)
"""
TOPOLOGY = """
version: 1
app: hbapp:app
broker: {url: "${CELERY_BROKER_URL}"}
defaults: {queue: busy}
queues: {busy: {}, solo: {}}
pools:
  busy: {queues: [busy], concurrency: 2}
  solo: {queues: [solo], pool: solo, time_limit: 40s}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "hbapp.py").write_text(APP)
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    (tmp_path / "beats").mkdir()
    return tmp_path


def probe(project: Path, check: str, pool: str) -> tuple[bool, str]:
    result = run_cli("probe", check, "--pool", pool, "--window", str(WINDOW), "--dir", project / "beats")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0, result.stdout


def record(project: Path, pool: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((project / "beats" / f"{pool}.heartbeat").read_text())
    return data


@contextlib.contextmanager
def worker(project: Path, url: str, pool: str, **extra: str) -> Iterator[Process]:
    env = worker_env(url, project / "topology.yaml", CELERY_TOPOLOGY_PROBE_DIR=str(project / "beats"))
    env.update(CELERY_TOPOLOGY_PROBE_INTERVAL="0.5", PYTHONPATH=f"{project}:{env['PYTHONPATH']}", **extra)
    kind = "solo" if pool == "solo" else "prefork"
    process = start_worker("hbapp", [pool], f"{pool}@%h", env, project / f"{pool}.log", concurrency=2, pool=kind)
    try:
        yield process
    finally:
        process.send(signal.SIGCONT)
        process.stop()


def sender(project: Path, url: str) -> Celery:
    # The URL goes to the loader, never into os.environ: Celery reads CELERY_BROKER_URL from the process
    # environment before its own conf, so it would send every later test's tasks in this process here.
    app = Celery("sender", set_as_current=False)
    configure(app, load(project / "topology.yaml", environ={**os.environ, "CELERY_BROKER_URL": url}))
    return app


def stays(project: Path, check: str, pool: str, seconds: float) -> int:
    """Probe `check` repeatedly for `seconds`; every answer must be yes. Returns how many were asked."""
    deadline, asked = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        ok, said = probe(project, check, pool)
        assert ok, said
        asked += 1
    return asked


def test_busy_prefork_worker_stays_live_and_ready(project: Path, redis_server: RedisServer) -> None:
    with worker(project, redis_server.url, "busy") as process:
        app = sender(project, redis_server.url)
        for _ in range(2):
            app.send_task("hb.sleep", args=[3 * WINDOW], queue="busy")
        wait_for(lambda: process.output().count("] received") == 2, 60, "both tasks received")
        assert stays(project, "live", "busy", 2 * WINDOW) > 2
        assert probe(project, "ready", "busy")[0]
        assert record(project, "busy")["hold"] == 0  # prefork children run tasks beside the loop


def test_solo_worker_running_a_task_longer_than_the_window_stays_live(project: Path, redis_server: RedisServer) -> None:
    with worker(project, redis_server.url, "solo") as process:
        assert record(project, "solo")["hold"] == 40  # the pool's longest time limit
        sender(project, redis_server.url).send_task("hb.sleep", args=[3 * WINDOW], queue="solo")
        process.wait_for_output("Task hb.sleep")
        started = time.monotonic()
        stays(project, "live", "solo", 2 * WINDOW)
        # The loop really was held: the last beat is older than the bare window, and still live.
        assert time.time() - float(record(project, "solo")["at"]) > WINDOW  # type: ignore[arg-type]
        assert time.monotonic() - started >= 2 * WINDOW
        wait_for(lambda: time.time() - float(record(project, "solo")["at"]) < 1, 60, "beats again after the task")  # type: ignore[arg-type]


def test_a_stopped_consumer_loop_is_not_live_within_two_windows(project: Path, redis_server: RedisServer) -> None:
    with worker(project, redis_server.url, "busy") as process:
        assert probe(project, "live", "busy")[0]
        process.send(signal.SIGSTOP)
        stopped = time.monotonic()
        wait_for(lambda: not probe(project, "live", "busy")[0], 4 * WINDOW, "not live")
        assert time.monotonic() - stopped <= 2 * WINDOW
        assert "not live: the consumer loop last ran" in probe(project, "live", "busy")[1]
        process.send(signal.SIGCONT)
        wait_for(lambda: probe(project, "live", "busy")[0], 60, "live again")


def test_broker_outage_is_not_ready_but_live(project: Path, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    try:
        with worker(project, redis.url, "busy"):
            assert probe(project, "ready", "busy")[0]
            redis.stop()
            wait_for(lambda: not probe(project, "ready", "busy")[0], 60, "not ready")
            assert "not connected to the broker" in probe(project, "ready", "busy")[1]
            stays(project, "live", "busy", 3 * WINDOW)  # Celery's reconnect loop keeps beating
            redis = RedisServer(tmp_path, port=redis.port)
            wait_for(lambda: probe(project, "ready", "busy")[0], 120, "ready again")
    finally:
        redis.stop()


def test_systemd_watchdog_gets_ready_and_watchdog_messages(project: Path, redis_server: RedisServer) -> None:
    address = str(project / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(60)
        with worker(project, redis_server.url, "busy", NOTIFY_SOCKET=address, WATCHDOG_USEC="3000000"):
            seen = [sock.recv(64).decode() for _ in range(4)]
    assert seen[0] == "READY=1"
    assert seen[1:] == ["WATCHDOG=1"] * 3


def test_probe_without_pool_refuses_two_heartbeats(project: Path) -> None:
    beats = project / "beats"
    for name in ("a", "b"):
        (beats / f"{name}.heartbeat").write_text(json.dumps({"at": time.time(), "connected": True, "hold": 0}))
    result = run_cli("probe", "live", "--dir", beats)
    assert result.returncode == 2
    assert "several workers beat in" in result.stderr and "(a, b): give --pool NAME" in result.stderr
    (beats / "b.heartbeat").unlink()
    assert run_cli("probe", "ready", "--dir", beats).returncode == 0
    assert run_cli("probe", "live", "--dir", project / "nowhere").returncode == 1


def test_probe_imports_nothing_heavier_than_the_standard_library(project: Path) -> None:
    """What the console script loads for `probe`: no Celery, kombu, pydantic, click, YAML, Jinja or redis."""
    code = (
        "import sys\n"
        f"sys.argv = ['celery-topology', 'probe', 'live', '--dir', {str(project / 'beats')!r}]\n"
        "from celery_topology.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'celery', 'kombu', 'pydantic', 'pydantic_core', 'click', 'yaml', 'jinja2', 'redis', 'argparse'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "print('celery_topology.runtime.heartbeat' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-2:] == ["[]", "True"], result.stdout + result.stderr
