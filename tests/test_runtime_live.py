"""Priorities, retries and beat, each on a real broker with real `celery worker` (and `celery beat`) processes.

Every test writes a small topology and a probe app into its tmp_path; the probe tasks
record what ran, where and when in the test's own redis-server.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from kombu import Connection

from celery_topology import configure, load

from support import BIN, EXAMPLES, Process, RedisServer, start_worker, wait_for, worker_env

pytestmark = pytest.mark.celery_internals  # CI also runs these on the lowest supported Celery

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
PROBE_APP = """
import os, time
import redis
from celery import Celery
from celery_topology import configure, load

app = Celery("probe_app")
configure(app)
log = redis.Redis.from_url(os.environ["PROBE_REDIS"])


def note(key, task, label):
    log.rpush(key, f"{label}|{task.request.hostname}|{time.time()}")


@app.task(name="probe.urgent", bind=True)
def urgent(self, label):
    note("probe:ran", self, label)


@app.task(name="probe.routine", bind=True)
def routine(self, label):
    note("probe:ran", self, label)


@app.task(name="probe.flaky", bind=True)
def flaky(self):
    note("probe:flaky", self, "try")
    raise ConnectionError("backend down")


@app.task(name="probe.steady", bind=True)
def steady(self):
    note("probe:steady", self, "try")
    raise TimeoutError("still down")


class Legacy(app.Task):
    name = "probe.legacy"

    def run(self):
        note("probe:legacy", self, "try")
        raise ConnectionError("class-based, registered late")


app.register_task(Legacy())


@app.task(name="probe.wrong", bind=True)
def wrong(self):
    note("probe:wrong", self, "try")
    raise ValueError("a bug, not an outage")
"""


def probe(tmp_path: Path, broker: str, backend: str, **sections: Any) -> tuple[Path, dict[str, str]]:
    """Write the probe app and a topology with `sections`; the environment its workers run in."""
    urls = {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_RESULT_BACKEND}"}
    body = {"version": 1, "app": "probe_app", "broker": urls, **sections}
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    (tmp_path / "probe_app.py").write_text(PROBE_APP)
    pythonpath = os.pathsep.join([str(tmp_path), str(EXAMPLES)])
    env = worker_env(broker, path, CELERY_RESULT_BACKEND=backend, PROBE_REDIS=backend, PYTHONPATH=pythonpath)
    return path, env


def producer(path: Path, env: dict[str, str]) -> Celery:
    app = Celery("probe-producer", set_as_current=False)
    configure(app, load(path, environ=env))
    return app


def records(server: RedisServer, key: str) -> list[list[str]]:
    return [item.decode().split("|") for item in server.client().lrange(key, 0, -1)]


def priority_backlog(tmp_path: Path, server: RedisServer, broker: str, queue: str) -> list[str]:
    """Queue 8 routine (priority 1) then 8 urgent (priority 9) tasks, then start one worker: the run order."""
    path, env = probe(
        tmp_path,
        broker,
        server.url,
        queues={queue: {}},
        defaults={"queue": queue},
        routes={"probe.urgent": {"queue": queue, "priority": 9}, "probe.routine": {"queue": queue, "priority": 1}},
        pools={"work": {"queues": [queue]}},
    )
    app = producer(path, env)
    for label in ["routine"] * 8 + ["urgent"] * 8:
        app.send_task(f"probe.{label}", args=(label,))
    worker = start_worker("probe_app", [queue], "work@test", env, tmp_path / "worker.log")
    try:
        wait_for(lambda: len(records(server, "probe:ran")) == 16, 120, "16 probe tasks")
    finally:
        worker.stop()
    return [label for label, _, _ in records(server, "probe:ran")]


def test_priority_on_redis(tmp_path: Path, fresh_redis: RedisServer) -> None:
    order = priority_backlog(tmp_path, fresh_redis, fresh_redis.url, "work")
    assert order == ["urgent"] * 8 + ["routine"] * 8


@pytest.fixture
def rabbit_queue() -> Iterator[str]:
    """A queue name of this test's own on the running RabbitMQ, deleted (with its exchange) afterwards."""
    name = f"prio-{uuid.uuid4().hex[:10]}"
    yield name
    with Connection(RABBITMQ) as conn:
        channel = conn.default_channel
        channel.queue_delete(name)
        channel.exchange_delete(name)


def test_priority_on_rabbitmq(tmp_path: Path, fresh_redis: RedisServer, rabbit_queue: str) -> None:
    order = priority_backlog(tmp_path, fresh_redis, RABBITMQ, rabbit_queue)
    assert order == ["urgent"] * 8 + ["routine"] * 8


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 2) for earlier, later in itertools.pairwise(times)]


def test_retry_policies(tmp_path: Path, fresh_redis: RedisServer) -> None:
    retry = {"max_retries": 3, "delay": 1, "backoff": "exponential", "max_delay": 3, "jitter": False}
    path, env = probe(
        tmp_path,
        fresh_redis.url,
        fresh_redis.url,
        queues={"default": {}},
        defaults={"retry": {**retry, "errors": ["ConnectionError", "TimeoutError"]}},
        routes={"probe.steady": {"retry": {"backoff": "fixed", "max_retries": 2}}},
        pools={"all": {"queues": ["default"], "concurrency": 2}},
    )
    app = producer(path, env)
    sent = {name: app.send_task(f"probe.{name}") for name in ("flaky", "steady", "wrong", "legacy")}
    worker = start_worker("probe_app", ["default"], "all@test", env, tmp_path / "worker.log", concurrency=2)
    try:
        for result in sent.values():
            result.get(timeout=90, propagate=False)
    finally:
        worker.stop()
    assert {name: r.state for name, r in sent.items()} == dict.fromkeys(sent, "FAILURE")
    flaky = [float(t) for _, _, t in records(fresh_redis, "probe:flaky")]
    steady = [float(t) for _, _, t in records(fresh_redis, "probe:steady")]
    assert len(flaky) == len(records(fresh_redis, "probe:legacy")) == 4 and len(steady) == 3, (flaky, steady)
    for measured, expected in zip(gaps(flaky) + gaps(steady), [1, 2, 3, 1, 1], strict=True):
        assert expected - 0.1 <= measured <= expected + 1.5, (gaps(flaky), gaps(steady))
    assert len(records(fresh_redis, "probe:wrong")) == 1
    log = worker.output()
    for name, exc in (("flaky", "ConnectionError('backend down')"), ("steady", "TimeoutError('still down')")):
        assert f"retries exhausted: task=probe.{name} id={sent[name].id} exception={exc}" in log
    assert f"task=probe.wrong id={sent['wrong'].id}" not in log


def test_beat_every_second_runs_on_the_right_pool(tmp_path: Path, fresh_redis: RedisServer) -> None:
    path, env = probe(
        tmp_path,
        fresh_redis.url,
        fresh_redis.url,
        queues={"default": {}, "ticks": {}},
        routes={"probe.urgent": "ticks"},
        pools={"main": {"queues": ["default"]}, "ticker": {"queues": ["ticks"]}},
        beat={
            "timezone": "Europe/Berlin",
            "schedule": {"tick": {"task": "probe.urgent", "every": 1, "args": ["beat"]}},
        },
    )
    workers = [start_worker("probe_app", [q], f"{q}@test", env, tmp_path / f"{q}.log") for q in ("default", "ticks")]
    beat_argv = [str(BIN / "celery"), "-A", "probe_app", "beat", "-s", str(tmp_path / "schedule"), "--loglevel=INFO"]
    beat = Process(beat_argv, tmp_path / "beat.log", env=env, cwd=tmp_path)
    try:
        wait_for(lambda: len(records(fresh_redis, "probe:ran")) >= 4, 90, "4 beat runs")
    finally:
        beat.stop()
        for worker in workers:
            worker.stop()
    ran = records(fresh_redis, "probe:ran")
    assert {(label, host) for label, host, _ in ran} == {("beat", "ticks@test")}
    assert producer(path, env).conf.timezone == "Europe/Berlin"
    assert min(gaps([float(t) for _, _, t in ran])) > 0.5  # one run a second, not a burst


def test_one_pool_many_queues_priority_first_then_fair(tmp_path: Path, fresh_redis: RedisServer) -> None:
    """Redis: a worker on two queues takes the most urgent task across both, then alternates between them.

    This is kombu's default `queue_order_strategy` (round_robin) over the ten priority steps; it is why
    the generated configuration leaves that option alone.
    """
    path, env = probe(
        tmp_path,
        fresh_redis.url,
        fresh_redis.url,
        queues={"first": {}, "second": {}},
        defaults={"queue": "first"},
        routes={"probe.urgent": {"queue": "second", "priority": 9}, "probe.routine": {"queue": "first", "priority": 1}},
        pools={"both": {"queues": ["first", "second"]}},
    )
    app = producer(path, env)
    for queue in ("first", "second"):
        for _ in range(6):
            app.send_task("probe.routine", args=(queue,), queue=queue)
    for _ in range(2):
        app.send_task("probe.urgent", args=("urgent",))
    worker = start_worker("probe_app", ["first", "second"], "both@test", env, tmp_path / "worker.log")
    try:
        wait_for(lambda: len(records(fresh_redis, "probe:ran")) == 14, 120, "14 probe tasks")
    finally:
        worker.stop()
    order = [label for label, _, _ in records(fresh_redis, "probe:ran")]
    assert order[:2] == ["urgent", "urgent"], order
    longest_run = max(len(list(run)) for _, run in itertools.groupby(order[2:]))
    assert longest_run <= 2, order  # not one queue drained before the other
