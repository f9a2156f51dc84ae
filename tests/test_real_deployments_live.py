"""The Real deployments keys on real brokers: a pool with `optimization: fair`, `without_gossip` and an
`environment` variable, run by its rendered command line; routes with `rate_limit`, `expires` and
`acks_late: false`; dotted queue names with priorities, their depth read by `status`. On Redis and on
RabbitMQ, with real `celery worker` processes.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from kombu import Connection

from celery_topology import configure, load
from celery_topology.render.plan import worker_argv

from support import BIN, EXAMPLES, Process, RedisServer, run_cli, wait_for, worker_env

pytestmark = pytest.mark.celery_internals  # kombu's unacked hash; CI also runs these on the lowest Celery

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
TASKS = ("real.limited", "real.expiring", "real.urgent", "real.routine", "real.early_ack", "real.late_ack", "real.env")
PROBE_APP = """
import os, time
import redis
from celery import Celery
from celery.worker.control import inspect_command
from celery_topology import configure

app = Celery("real_app")
configure(app)
log = redis.Redis.from_url(os.environ["PROBE_REDIS"])


def note(key, value):
    log.rpush(key, f"{value}|{time.time()}")


@app.task(name="real.limited")
def limited():
    note("real:limited", "ran")


@app.task(name="real.expiring")
def expiring():
    note("real:expiring", "ran")


@app.task(name="real.urgent")
def urgent():
    note("real:priority", "urgent")


@app.task(name="real.routine")
def routine():
    note("real:priority", "routine")


@app.task(name="real.early_ack", bind=True)
def early_ack(self):
    note("real:acks", f"early {self.acks_late}")
    time.sleep(10)


@app.task(name="real.late_ack", bind=True)
def late_ack(self):
    note("real:acks", f"late {self.acks_late}")
    time.sleep(10)


@app.task(name="real.env")
def env():
    return os.environ.get("REAL_MARKER")


@inspect_command()
def real_flags(state, **kwargs):
    consumer = state.consumer
    return {"optimization": consumer.controller.optimization, "gossip": consumer.gossip.enabled}
"""


def topology(queue: str, other: str, workdir: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "real_app",
        "broker": {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_RESULT_BACKEND}"},
        "defaults": {"queue": queue},
        "queues": {queue: {}, other: {}},
        "routes": {
            "real.limited": {"queue": queue, "rate_limit": "2/s"},
            "real.expiring": {"queue": queue, "expires": 3},
            "real.urgent": {"queue": queue, "priority": 9},
            "real.routine": {"queue": queue, "priority": 1},
            "real.early_ack": {"queue": other, "acks_late": False},
            "real.late_ack": other,
        },
        "pools": {
            "web": {
                "queues": [queue, other],
                "hostname": "real-web.%h",
                "concurrency": 1,
                "optimization": "fair",
                "without_gossip": True,
                "environment": {"REAL_MARKER": "from-the-pool"},
            }
        },
        "deploy": {"working_directory": str(workdir), "celery": str(BIN / "celery")},
    }


def stand_in() -> None:
    """The producer's side of every probe task: only its name and the topology's options matter."""


class Deployment:
    """The topology, the probe app and a producer configured from the same file."""

    def __init__(self, tmp_path: Path, broker: str, results: RedisServer, queue: str, other: str) -> None:
        self.tmp_path, self.results, self.queue = tmp_path, results, queue
        self.path = tmp_path / "topology.yaml"
        self.path.write_text(yaml.safe_dump(topology(queue, other, tmp_path), sort_keys=False))
        (tmp_path / "real_app.py").write_text(PROBE_APP)
        pythonpath = os.pathsep.join([str(tmp_path), str(EXAMPLES)])
        self.env = worker_env(broker, self.path, CELERY_RESULT_BACKEND=results.url, PROBE_REDIS=results.url)
        self.env["PYTHONPATH"] = pythonpath
        self.env["CELERY_TOPOLOGY_PROBE_DIR"] = str(tmp_path / "heartbeats")  # not the machine's shared one
        self.topology = load(self.path, environ=self.env)
        self.app = Celery("real-producer", set_as_current=False)
        for name in TASKS:  # the producer knows the tasks by name: the topology's options reach their messages
            self.app.task(name=name, shared=False)(stand_in)
        configure(self.app, self.topology)
        self.app.finalize(auto=True)

    def send(self, name: str) -> Any:
        return self.app.tasks[name].apply_async()

    def start_worker(self) -> Process:
        """The pool's rendered command line, with the pool's environment as its unit sets it."""
        assert self.topology.deploy is not None
        argv = worker_argv(self.topology, self.topology.deploy, "web")
        env = {**self.env, **self.topology.pools["web"].environment}
        worker = Process(list(argv), self.tmp_path / "worker.log", env=env, cwd=self.tmp_path)
        worker.wait_for_output(" ready.", 120)
        return worker

    def records(self, key: str) -> list[tuple[str, float]]:
        items = [item.decode().rsplit("|", 1) for item in self.results.client().lrange(key, 0, -1)]
        return [(value, float(when)) for value, when in items]

    def status(self) -> dict[str, Any]:
        result = run_cli("--file", self.path, "status", "--format", "json", "--timeout", "2", env=self.env)
        return dict(json.loads(result.stdout))


def exercise(deployment: Deployment, expired_state: str, unacked: Any = None) -> None:
    """Everything the issue asks of a live deployment, on whichever broker `deployment` uses.

    An expired task is discarded by the worker on Redis (REVOKED); RabbitMQ drops it itself (Celery
    sets the message's AMQP expiration), so it is never delivered (PENDING). Either way it never runs:
    it was queued between the urgent and the routine tasks, which all ran.
    """
    d = deployment
    expired = d.send("real.expiring")
    for name in ["real.routine"] * 3 + ["real.urgent"] * 3:
        d.send(name)
    sent = time.time()
    assert d.status()["queues"][d.queue]["depth"] == 7  # every priority list of the dotted queue counted
    wait_for(lambda: time.time() > sent + 4, 30, "the expiring task's 3 s to pass")
    worker = d.start_worker()
    try:
        wait_for(lambda: len(d.records("real:priority")) == 6, 120, "6 priority tasks")
        assert [value for value, _ in d.records("real:priority")] == ["urgent"] * 3 + ["routine"] * 3
        wait_for(lambda: expired.state == expired_state, 60, f"the expired task to be {expired_state}")
        assert d.records("real:expiring") == []
        fresh = d.send("real.expiring")  # the same route, consumed in time: it runs
        wait_for(lambda: len(d.records("real:expiring")) == 1, 60, "a fresh expiring task")
        assert fresh.get(timeout=30) is None

        (node,) = d.app.control.inspect(timeout=5).ping() or {}
        assert node.startswith("celery@real-web.")  # a hostname without @, as Celery names it
        (flags,) = d.app.control.broadcast("real_flags", reply=True, destination=[node], timeout=10)
        assert flags[node] == {"optimization": "fair", "gossip": False}
        conf = (d.app.control.inspect(destination=[node], timeout=10).conf() or {})[node]
        assert conf["worker_prefetch_multiplier"] == 1
        assert d.send("real.env").get(timeout=60) == "from-the-pool"

        started = time.time()
        for _ in range(10):
            d.send("real.limited")
        wait_for(lambda: len(d.records("real:limited")) == 10, 120, "10 rate-limited tasks")
        assert d.records("real:limited")[-1][1] - started >= 4.5  # 2/s: nine waits of half a second

        for name, expected in (("real.early_ack", "early False"), ("real.late_ack", "late True")):
            before = len(d.records("real:acks"))
            d.send(name)
            wait_for(lambda before=before: len(d.records("real:acks")) > before, 60, f"{name} to start")
            assert d.records("real:acks")[-1][0] == expected
            if unacked is not None:  # Redis: a message acknowledged early is no longer held as unacked
                held = 0 if expected.startswith("early") else 1
                wait_for(lambda held=held: unacked() == held, 9, f"{held} unacked message(s) while {name} runs")
                assert unacked() == held  # still so while it runs (10 s)
    finally:
        worker.stop()


def test_real_deployment_on_redis(tmp_path: Path, fresh_redis: RedisServer) -> None:
    d = Deployment(tmp_path, fresh_redis.url, fresh_redis, "edx.lms.core.default", "build:large")
    exercise(d, "REVOKED", unacked=lambda: fresh_redis.client().hlen("unacked"))
    keys = {k.decode() for k in fresh_redis.client().keys("edx.lms.core.default*")}
    assert keys == set(), keys  # drained: every priority list emptied by the worker


@pytest.fixture
def rabbit_names() -> Iterator[tuple[str, str]]:
    """Dotted and colon queue names of this test's own, deleted (with their exchanges) afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = (f"edx.lms.core.{suffix}", f"build:{suffix}")
    yield names
    with Connection(RABBITMQ) as conn:
        channel = conn.default_channel
        for name in names:
            channel.queue_delete(name)
            channel.exchange_delete(name)


def test_real_deployment_on_rabbitmq(tmp_path: Path, fresh_redis: RedisServer, rabbit_names: tuple[str, str]) -> None:
    queue, other = rabbit_names
    exercise(Deployment(tmp_path, RABBITMQ, fresh_redis, queue, other), "PENDING")


def test_a_broker_without_depth_is_reported_not_failed(tmp_path: Path) -> None:
    """kombu's filesystem transport: status cannot read queue depth there, doctor has no broker checks;
    both say so instead of failing (no traceback), and what they can check still counts."""
    folder = tmp_path / "messages"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "processed_folder": str(folder)}
    body = {
        "version": 1,
        "app": "real_app",
        "broker": {"url": "filesystem://", "transport_options": options},
        "defaults": {"queue": "edx.lms.core.default"},
        "queues": {"edx.lms.core.default": {}},
        "pools": {"web": {"queues": ["edx.lms.core.default"]}},
    }
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    (tmp_path / "real_app.py").write_text(
        "from celery import Celery\n\napp = Celery('real_app')\n"
    )  # doctor imports it
    status = run_cli("--file", path, "status", "--format", "json", "--timeout", "1", env={"PATH": "/usr/bin:/bin"})
    report = json.loads(status.stdout)
    assert report["queues"]["edx.lms.core.default"]["depth"] is None
    assert {
        "level": "warning",
        "code": "not-supported",
        "message": "queue depth: not supported on this broker (filesystem)",
    } in report["findings"]
    assert status.returncode == 1 and report["pools"]["web"]["online"] == []  # nobody runs the pool: still an error
    doctor = run_cli("--file", path, "doctor", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "broker checks: not supported on this broker (filesystem); check its settings by hand" in doctor.stdout
    assert "Traceback" not in status.stderr + doctor.stderr
