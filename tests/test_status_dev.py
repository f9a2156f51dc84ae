"""`status` and the development worker: the documented one-worker setup, and a worker that runs an older file."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

from celery_topology import load
from celery_topology.cli.status import status_text
from celery_topology.cluster.assess import Observation, WorkerView, assess
from celery_topology.topology.fingerprint import fingerprint

from support import ROOT, Process, RedisServer, run_cli, worker_env

QUEUES = ("default", "agent", "ingestion", "evaluation", "benchmark")


def test_a_pool_without_worker_reads_the_same_in_text_and_json() -> None:
    topology = load(ROOT / "topology.yaml", environ={})
    obs = Observation("redis://x", {"default@h": WorkerView("default@h", ("default",))}, dict.fromkeys(QUEUES, 0))
    report = assess(topology, obs)
    assert {name: p["state"] for name, p in report["pools"].items()} == {
        "default": "complete",
        "agent": "down",
        "ingestion": "down",
        "evaluation": "down",
    }
    pools_table = status_text(report).split("\n\n")[1]  # after the verdict line
    assert pools_table.splitlines()[0].split() == ["pool", "state", "served", "by", "queues"]
    rows = {line.split()[0]: line.split()[1] for line in pools_table.splitlines()[2:]}
    assert rows == {name: p["state"] for name, p in report["pools"].items()}


def test_one_worker_on_every_queue_is_the_development_worker() -> None:
    topology = load(ROOT / "topology.yaml", environ={})
    dev = WorkerView("dev@box", QUEUES, topology=fingerprint(topology))
    report = assess(topology, Observation("redis://x", {dev.name: dev}, dict.fromkeys(QUEUES, 3)))
    assert report["healthy"] is True
    assert {p["state"] for p in report["pools"].values()} == {"development"}
    assert report["pools"]["agent"]["served_by"] == ["dev@box"]
    assert [f["code"] for f in report["findings"]] == ["development-worker"]


def test_a_worker_that_loaded_another_topology_is_named(tmp_path: Path) -> None:
    topology = load(ROOT / "topology.yaml", environ={})
    old = WorkerView("agent-worker@box", ("agent",), topology="0123456789ab")
    same = WorkerView("default@box", ("default",), topology=fingerprint(topology))
    report = assess(topology, Observation("redis://x", {w.name: w for w in (old, same)}, {}))
    changed = [f["message"] for f in report["findings"] if f["code"] == "topology-changed"]
    assert changed == [
        f"worker agent-worker@box runs an older topology (0123456789ab, the file is {fingerprint(topology)}): restart it"
    ]
    assert report["workers"]["default@box"]["topology"] == fingerprint(topology)


def test_status_recognises_make_run_worker_and_a_changed_file(tmp_path: Path, fresh_redis: RedisServer) -> None:
    """The documented dev worker (scripts/run_worker.py, what `make run-worker` runs), then the file edited under it."""
    work = tmp_path / "work"
    work.mkdir()
    path = work / "topology.yaml"
    shutil.copy(ROOT / "topology.yaml", path)
    env = worker_env(fresh_redis.url, path)
    argv = [sys.executable, str(ROOT / "scripts" / "run_worker.py"), "--", "--concurrency=1", "--without-gossip"]
    worker = Process(argv, tmp_path / "worker.log", env=env, cwd=work)
    try:
        worker.wait_for_output(" ready.", 120)
        dev = f"dev@{socket.gethostname()}"
        done = run_cli("-f", path, "status", "--timeout", "5", "--format", "json", env=env, cwd=work)
        report = json.loads(done.stdout)
        assert done.returncode == 0, report["findings"]
        assert {p["state"] for p in report["pools"].values()} == {"development"}
        assert [f["code"] for f in report["findings"]] == ["development-worker"]
        text = run_cli("-f", path, "status", "--timeout", "5", env=env, cwd=work).stdout
        assert f"agent       development  {dev}" in text

        path.write_text(path.read_text().replace("concurrency: 8", "concurrency: 6"))  # edited, not restarted
        done = run_cli("-f", path, "status", "--timeout", "5", "--format", "json", env=env, cwd=work)
        changed = [f["message"] for f in json.loads(done.stdout)["findings"] if f["code"] == "topology-changed"]
        assert len(changed) == 1 and changed[0].startswith(f"worker {dev} runs an older topology"), done.stdout
        assert changed[0].endswith("restart it")
    finally:
        worker.stop()
