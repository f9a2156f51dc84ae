"""`python scripts/run_worker.py`, `python scripts/run_beat.py` and `make run-worker` start real processes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from celery import Celery

from celery_topology import configure, load

from support import ROOT, Process, RedisServer, worker_env

URLS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
INTAKE = "agentic_clinical_assistant.workers.tasks.agent.run_intake_agent"


def script_env(server: RedisServer) -> dict[str, str]:
    """No CELERY_TOPOLOGY_FILE and no PYTHONPATH: the scripts find ./topology.yaml as the CLI does, and the examples themselves."""
    env = worker_env(server.url, ROOT / "topology.yaml", PYTHONPATH="")
    del env["CELERY_TOPOLOGY_FILE"]
    return env


def test_run_worker_runs_one_pool(redis_server: RedisServer, tmp_path: Path) -> None:
    argv = [sys.executable, str(ROOT / "scripts" / "run_worker.py"), "--pool", "agent", "--", "--concurrency=1"]
    worker = Process(argv, tmp_path / "worker.log", env=script_env(redis_server), cwd=ROOT)
    try:
        worker.wait_for_output(" ready.", 90)
        app = Celery("producer", set_as_current=False)
        configure(app, load(ROOT / "topology.yaml", environ=dict.fromkeys(URLS, redis_server.url)))
        result = app.send_task(INTAKE, args=("44 year old with fever",))
        assert result.get(timeout=60)["age"] == 44
    finally:
        code = worker.stop()
    output = worker.output()
    assert code == 0, output[-2000:]  # SIGTERM reached celery itself: a warm shutdown
    assert "agent-worker@" in output and f"{INTAKE}[{result.id}] succeeded" in output
    assert "--queues=agent" in output and "--concurrency=1" in output


def test_make_run_worker_consumes_every_queue(redis_server: RedisServer, tmp_path: Path) -> None:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    argv = [make, "-C", str(ROOT), "run-worker", f"PYTHON={sys.executable}"]
    worker = Process(argv, tmp_path / "make.log", env=script_env(redis_server), cwd=tmp_path)
    try:
        worker.wait_for_output(" ready.", 90)
    finally:
        worker.stop(timeout=5)
    banner = worker.output()
    for queue in ("default", "agent", "ingestion", "evaluation", "benchmark"):
        assert re.search(rf"\.> {queue} +exchange={queue}\(direct\) key={queue}\n", banner), banner[-3000:]


def test_run_beat_starts_the_scheduler(redis_server: RedisServer, tmp_path: Path) -> None:
    schedule = tmp_path / "beat-schedule"
    argv = [sys.executable, str(ROOT / "scripts" / "run_beat.py"), "--", f"--schedule={schedule}"]
    beat = Process(argv, tmp_path / "beat.log", env=script_env(redis_server), cwd=ROOT)
    try:
        beat.wait_for_output("beat: Starting...", 60)
    finally:
        beat.stop()
    assert "agentic_clinical_assistant.workers.celery_app" in beat.output()
    assert schedule.exists() or any(tmp_path.glob("beat-schedule*"))


def test_run_worker_takes_the_pool_of_celery_topology_env(redis_server: RedisServer, tmp_path: Path) -> None:
    """The pool's command line and the worker's configure(app) read one environment: staging's agent runs 2, not 8."""
    argv = [sys.executable, str(ROOT / "scripts" / "run_worker.py"), "--pool", "agent"]
    env = {**script_env(redis_server), "CELERY_TOPOLOGY_ENV": "staging"}
    worker = Process(argv, tmp_path / "worker.log", env=env, cwd=ROOT)
    try:
        worker.wait_for_output(" ready.", 90)
    finally:
        worker.stop()
    assert "--queues=agent" in worker.output() and "--concurrency=2" in worker.output(), worker.output()[-2000:]
    wrong = {**env, "CELERY_TOPOLOGY_ENV": "stagin"}
    refused = subprocess.run(argv, capture_output=True, text=True, env=wrong, cwd=ROOT, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "unknown environment 'stagin' (did you mean 'staging'?)" in refused.stderr
