"""`status`, `serve` and `route` against a real redis-server (with a password) and real `celery worker`s.

The broker password is a canary: no output of any command, HTTP body or server log may
contain it. Every command runs as a real subprocess, so exit codes are the real ones.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery import Celery

from celery_topology import configure, load
from celery_topology.cluster.observe import observe
from celery_topology.topology.brokerkeys import redis_queue_keys

from support import APP, BIN, EXAMPLE_HEAD, TASKS, Process, RedisServer, free_port, start_worker, wait_for, worker_env

pytestmark = pytest.mark.celery_internals  # CI also runs these on the lowest supported Celery

CANARY = "canary-Pw-5c1e"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
TOPOLOGY = (
    EXAMPLE_HEAD
    + f"""\
queues: {{default: {{}}, agent: {{}}, ingestion: {{}}, evaluation: {{}}, benchmark: {{}}}}
routes:
  {TASKS}.agent.*: {{queue: agent, priority: 8}}
  {TASKS}.ingestion.*: ingestion
  {TASKS}.evaluation.run_nightly_evaluation: {{queue: benchmark, priority: 2}}
  {TASKS}.evaluation.*: evaluation
pools:
  default: {{queues: [default]}}
  agent: {{queues: [agent], hostname: agent-worker@%h}}
  batch: {{queues: [ingestion, evaluation, benchmark], hostname: batch-worker@%h}}
"""
)
HOSTNAMES = {"default": "default@live-test", "agent": "agent-worker@live-test", "batch": "batch-worker@live-test"}


class Cluster:
    """A password-protected redis-server, the topology file, and the environment commands run in."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server = RedisServer(tmp)
        self.server.client().config_set("requirepass", CANARY)
        self.url = f"redis://:{CANARY}@127.0.0.1:{self.server.port}/0"
        self.topology = tmp / "topology.yaml"
        self.topology.write_text(TOPOLOGY)
        self.env = worker_env(self.url, self.topology)
        self.outputs: list[str] = []  # everything any command printed, for the canary check

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(BIN / "celery-topology"), "--file", str(self.topology), *args]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120, cwd=self.tmp)
        self.outputs += [done.stdout, done.stderr]
        return done

    def status(self) -> tuple[int, dict[str, Any]]:
        done = self.cli("status", "--format", "json", "--timeout", "2")
        return done.returncode, json.loads(done.stdout)

    def producer(self) -> Celery:
        app = Celery("live-test-producer", set_as_current=False)
        configure(app, load(self.topology, environ=self.env))
        return app

    def worker(self, pool: str, queues: list[str]) -> Process:
        return start_worker(APP, queues, HOSTNAMES[pool], self.env, self.tmp / f"{pool}.log")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(tmp_path)
    yield made
    made.server.stop()
    leaked = [text for text in made.outputs if CANARY in text]
    assert not leaked, f"the broker password appeared in output: {leaked[0][:500]}"


def serve(cluster: Cluster) -> tuple[Process, str]:
    port = free_port()
    argv = [str(BIN / "celery-topology"), "--file", str(cluster.topology), "serve", "--port", str(port)]
    argv += ["--timeout", "2", "--cache", "0"]  # this test follows each change at once
    process = Process(argv, cluster.tmp / "serve.log", env=cluster.env, cwd=cluster.tmp)
    process.wait_for_output("Uvicorn running on", 60)
    return process, f"http://127.0.0.1:{port}/workers"


def get(base: str, path: str, cluster: Cluster) -> httpx.Response:
    response = httpx.get(f"{base}/{path}", timeout=30)
    cluster.outputs.append(response.text)
    return response


def test_status_and_health_follow_the_workers(cluster: Cluster) -> None:
    pools = {"default": ["default"], "agent": ["agent"], "batch": ["ingestion", "evaluation", "benchmark"]}
    workers = {pool: cluster.worker(pool, queues) for pool, queues in pools.items()}
    server, base = serve(cluster)
    try:
        code, report = cluster.status()
        assert code == 0, report["findings"]
        assert {name: (p["complete"], p["online"]) for name, p in report["pools"].items()} == {
            pool: (True, [HOSTNAMES[pool]]) for pool in pools
        }
        assert report["workers"][HOSTNAMES["batch"]]["queues"] == ["benchmark", "evaluation", "ingestion"]
        text = cluster.cli("status")
        assert text.returncode == 0 and text.stdout.startswith("HEALTHY  broker redis://:***@127.0.0.1:")

        health = get(base, "health", cluster)
        assert health.status_code == 200
        assert health.json() == {"status": "healthy", "workers_online": 3, "workers": sorted(HOSTNAMES.values())}
        stats = get(base, "stats", cluster).json()
        assert set(stats) == {"status", "workers", "queues", "findings"}
        agent = stats["workers"][HOSTNAMES["agent"]]
        assert agent["pool"] == "agent" and agent["concurrency"] == 1 and agent["pid"] == workers["agent"].pid
        assert stats["queues"]["agent"] == {"depth": 0, "consumers": [HOSTNAMES["agent"]], "declared": True}

        cluster.producer().send_task(f"{TASKS}.ingestion.reindex_documents", countdown=600)  # waits, as a retry does
        batch = HOSTNAMES["batch"]
        wait_for(lambda: get(base, "stats", cluster).json()["workers"][batch]["scheduled"] == 1, 60, "1 scheduled")

        workers.pop("agent").stop()
        code, report = cluster.status()
        assert code == 1
        assert not report["pools"]["agent"]["complete"] and report["pools"]["batch"]["complete"]
        assert [f["message"] for f in report["findings"]] == [
            "pool 'agent': no worker online (expected agent-worker@%h)"
        ]
        health = get(base, "health", cluster)
        assert health.status_code == 503
        assert health.json() == {
            "status": "unhealthy",
            "workers_online": 2,
            "workers": [HOSTNAMES["batch"], HOSTNAMES["default"]],
        }
    finally:
        server.stop()
        for worker in workers.values():
            worker.stop()
    cluster.outputs.append(server.output())


def test_depth_counts_every_priority_of_an_unconsumed_queue(cluster: Cluster) -> None:
    app = cluster.producer()
    native = [9, 8, 6, 4, 4, 1, 0, 0, 0, 7, 2, 5]  # Redis's own scale: 0 most urgent
    for priority in native:
        app.send_task(f"{TASKS}.agent.run_intake_agent", args=("note",), priority=priority)
    app.send_task(f"{TASKS}.agent.run_intake_agent", args=("note",))  # the route's priority 8: native 1
    client = cluster.redis()
    filled = [key for key in redis_queue_keys("agent", {"priority_steps": list(range(10))}) if client.llen(key)]
    assert len(filled) == 9 and client.llen("agent") == 3  # LLEN alone would see 3 of 13
    worker = cluster.worker("default", ["default"])
    try:
        code, report = cluster.status()
    finally:
        worker.stop()
    assert code == 1
    assert report["queues"]["agent"] == {"depth": 13, "consumers": [], "declared": True}
    assert report["queues"]["default"]["depth"] == 0
    assert "queue 'agent': 13 waiting and no worker consumes it" in [f["message"] for f in report["findings"]]
    with app.connection_for_read() as conn:
        assert conn.default_channel._size("agent") == 13  # kombu's own count agrees


@pytest.mark.parametrize(
    "task",
    [
        f"{TASKS}.agent.run_agent_workflow",
        f"{TASKS}.ingestion.ingest_documents",
        f"{TASKS}.evaluation.run_nightly_evaluation",
        f"{TASKS}.evaluation.run_evaluation",
        "somebody.elses.task",
    ],
)
def test_route_agrees_with_where_the_task_lands(cluster: Cluster, task: str) -> None:
    done = cluster.cli("route", task, "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    sent = cluster.producer().send_task(task)
    client = cluster.redis()
    steps = {"priority_steps": list(range(10))}
    landed = [
        (queue, key)
        for queue in load(cluster.topology, environ=cluster.env).queues
        for key in redis_queue_keys(queue, steps)
        if any(sent.id in item.decode() for item in client.lrange(key, 0, -1))
    ]
    # Redis keeps urgent (file priority 9) in the bare key; file priority p sits in step 9 - p.
    assert landed == [(answer["queue"], redis_queue_keys(answer["queue"], steps)[9 - answer["priority"]])]


def test_unreachable_broker_is_unhealthy_and_masked(cluster: Cluster) -> None:
    cluster.env["CELERY_BROKER_URL"] = f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"
    done = cluster.cli("status")
    assert done.returncode == 1
    assert done.stdout.startswith("UNHEALTHY  broker redis://:***@127.0.0.1:")
    assert "Connection refused" in done.stdout
    code, report = cluster.status()
    assert code == 1 and [f["code"] for f in report["findings"]] == ["broker-unreachable"]


def test_watch_refreshes_a_bounded_number_of_times(cluster: Cluster) -> None:
    cluster.env["CELERY_BROKER_URL"] = f"redis://:{CANARY}@127.0.0.1:{free_port()}/0"
    done = cluster.cli("status", "--watch", "--count", "2", "--interval", "0.1")
    assert done.returncode == 1
    assert done.stdout.count("UNHEALTHY  broker redis://:***@127.0.0.1:") == 2
    lines = cluster.cli("status", "--watch", "--count", "3", "--interval", "0.1", "--format", "json").stdout
    assert [json.loads(line)["healthy"] for line in lines.splitlines()] == [False, False, False]


def test_rabbitmq_depth_is_a_passive_declare(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    default, busy, idle = f"live-default-{suffix}", f"live-busy-{suffix}", f"live-idle-{suffix}"
    path = tmp_path / "topology.yaml"
    path.write_text(
        f"version: 1\napp: {APP}\nbroker: {{url: '${{CELERY_BROKER_URL}}'}}\ndefaults: {{queue: {default}}}\n"
        f"queues: {{{default}: {{}}, {busy}: {{}}, {idle}: {{}}}}\nroutes: {{probe.busy: {{queue: {busy}, priority: 9}}}}\n"
        f"pools: {{default: {{queues: [{default}]}}, busy: {{queues: [{busy}, {idle}]}}}}\n"
    )
    env = worker_env(RABBITMQ, path)
    topology = load(path, environ=env)
    app = Celery("live-rabbit-producer", set_as_current=False)
    configure(app, topology)
    try:
        for priority in (0, 4, 9, 9, 1):
            app.send_task("probe.busy", priority=priority)
        wait_for(lambda: observe(topology, 1.0, app).depths[busy] == 5, 30, "5 messages counted")
        depths = observe(topology, 1.0, app).depths
        assert (depths[busy], depths[idle]) == (5, None)
        done = subprocess.run(
            [str(BIN / "celery-topology"), "--file", str(path), "status"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        with app.connection_for_write() as conn:
            for name in (default, busy, idle):
                conn.default_channel.queue_delete(name)
                conn.default_channel.exchange_delete(name)
    assert done.returncode == 1 and "guest:guest" not in done.stdout + done.stderr
    assert re.search(rf"^{busy} +5 +NONE$", done.stdout, re.M) and re.search(rf"^{idle} +\? +NONE$", done.stdout, re.M)


def test_endpoints_mount_into_an_existing_app_with_one_line(fresh_redis: RedisServer, tmp_path: Path) -> None:
    from starlette.applications import Starlette

    import celery_topology
    from celery_topology.health import workers_app  # the path documented before the stage layout

    assert workers_app is celery_topology.workers_app

    async def ask(app: Starlette) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            return await client.get("/workers/health")

    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY)
    parent = Starlette()
    parent.mount("/workers", workers_app(load(path, environ=worker_env(fresh_redis.url, path))))
    response = asyncio.run(ask(parent))
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "workers_online": 0, "workers": []}
