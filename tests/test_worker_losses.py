"""A task that kills its own prefork pool child (as the OOM killer or a segfault would) runs
`max_worker_losses` times, then is dead-lettered and stored as FAILURE, instead of being redelivered
forever by acks_late + reject_on_worker_lost. Real worker, real redis-server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml
from celery import Celery

from celery_topology import configure, load
from celery_topology.cluster.deadletters import entries

from support import EXAMPLES, Process, RedisServer, start_worker, wait_for, worker_env

pytestmark = pytest.mark.celery_internals  # kombu's redelivered mark; CI also runs these on the lowest Celery

APP = """
import os
import signal
import redis
from celery import Celery
from celery_topology import configure

app = Celery("wl_app")
configure(app)
log = redis.Redis.from_url(os.environ["PROBE_REDIS"])


def die(self, note):
    log.rpush("wl:runs", self.request.id)
    os.kill(os.getpid(), signal.SIGKILL)  # this pool child dies mid-task


suicide = app.task(name="wl.suicide", bind=True)(die)
once = app.task(name="wl.once", bind=True)(die)


@app.task(name="wl.fine")
def fine():
    return "ok"
"""
TOPOLOGY = {
    "version": 1,
    "app": "wl_app",
    "broker": {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_BROKER_URL}"},
    "queues": {"default": {}, "work": {}},
    "routes": {"wl.once": {"queue": "work", "max_worker_losses": 1}, "wl.*": "work"},
    "pools": {"default": {"queues": ["default"], "pool": "solo"}, "work": {"queues": ["work"], "concurrency": 1}},
}
LOST = "celery_topology.runtime.losses.WorkerLostTooOften"


@pytest.fixture
def cluster(tmp_path: Path, fresh_redis: RedisServer) -> Iterator[Celery]:
    """The topology, one prefork worker on `work`, and a producer."""
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(TOPOLOGY, sort_keys=False))
    (tmp_path / "wl_app.py").write_text(APP)
    pythonpath = os.pathsep.join([str(tmp_path), str(EXAMPLES)])
    env = worker_env(fresh_redis.url, path, PROBE_REDIS=fresh_redis.url, PYTHONPATH=pythonpath)
    producer = Celery("wl-producer", set_as_current=False)
    configure(producer, load(path, environ=env))
    worker: Process = start_worker("wl_app", ["work"], "work@wl", env, tmp_path / "work.log")
    try:
        yield producer
    finally:
        worker.stop()


def runs(server: RedisServer, task_id: str) -> int:
    return [item.decode() for item in server.client().lrange("wl:runs", 0, -1)].count(task_id)


def incr_calls(client: redis.Redis) -> int:
    """How many INCR/INCRBY commands the server has run (redis-py's `incr` sends INCRBY); the run counter's, as
    Celery and kombu send none here."""
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("incr", "incrby"))


def test_a_task_that_kills_its_worker_is_dead_lettered_after_three_runs(
    cluster: Celery, fresh_redis: RedisServer, tmp_path: Path
) -> None:
    result = cluster.send_task("wl.suicide", args=["patient note"])
    result.get(timeout=180, propagate=False)  # before: redelivered forever, never ready
    assert result.state == "FAILURE" and type(result.result).__name__ == "WorkerLostTooOften"
    assert runs(fresh_redis, result.id) == 3  # defaults.max_worker_losses
    wait_for(lambda: list(entries(fresh_redis.url)), 30, "the dead letter")
    (kept,) = entries(fresh_redis.url)
    assert (kept["id"], kept["task"], kept["args"], kept["queue"], kept["exception"]) == (
        result.id,
        "wl.suicide",
        ["patient note"],
        "work",
        LOST,
    )
    assert kept["message"].startswith("its worker was lost 3 times while running it")
    client = fresh_redis.client()
    assert client.keys("celery-topology.runs.*") == []  # the count goes with the task
    # acknowledged (just after the result is stored): nothing left to redeliver
    wait_for(lambda: (client.llen("work"), client.hlen("unacked")) == (0, 0), 30, "an empty queue, nothing unacked")
    assert "dead-lettered: task=wl.suicide" in (tmp_path / "work.log").read_text()


def test_a_route_overrides_the_limit_and_a_finished_task_leaves_no_count(
    cluster: Celery, fresh_redis: RedisServer
) -> None:
    client = fresh_redis.client()
    before = incr_calls(client)
    assert cluster.send_task("wl.fine").get(timeout=60) == "ok"
    assert client.keys("celery-topology.runs.*") == []
    assert incr_calls(client) == before  # a first delivery is not counted: no round trip to the store
    once = cluster.send_task("wl.once", args=["x"])  # the same code, on a route with max_worker_losses: 1
    once.get(timeout=120, propagate=False)
    assert once.state == "FAILURE" and runs(fresh_redis, once.id) == 1
