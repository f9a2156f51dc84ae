"""The dead-letter path with real workers on a real redis-server, and `celery-topology dead` as the console script.

The probe tasks record every try (task id, worker, retries) in the test's redis-server; whether
`dl.flaky` fails is decided by a key there, so a test can heal it before replaying.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery

from celery_topology import configure, load
from celery_topology.cluster.deadletters import entries
from celery_topology.runtime.deadletter import keep
from celery_topology.runtime.store import CLAIM_PREFIX, PREFIX

from support import EXAMPLES, Process, RedisServer, free_port, run_cli, start_worker, wait_for, worker_env

PROBE_APP = """
import os
import time
import redis
from celery import Celery
from celery_topology import configure

app = Celery("dl_app")
configure(app)
log = redis.Redis.from_url(os.environ["PROBE_REDIS"])


@app.task(name="dl.flaky", bind=True)
def flaky(self, n, label="x"):
    log.rpush("dl:ran", f"{self.request.id}|{self.request.hostname}|{self.request.retries}")
    if not log.get("dl:healed"):
        raise ConnectionError(f"down {n}")
    return n


@app.task(name="dl.broken")
def broken():
    raise ValueError("a bug, not kept")


@app.task(name="dl.strict")
def strict(doc):
    raise ValueError(f"a bug in {doc}, kept")


@app.task(name="dl.slow")
def slow(seconds):
    time.sleep(seconds)
"""
TOPOLOGY: dict[str, Any] = {
    "version": 1,
    "app": "dl_app",
    "broker": {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_RESULT_BACKEND}"},
    "defaults": {
        "retry": {"max_retries": 2, "delay": 1, "backoff": "fixed", "jitter": False, "errors": ["ConnectionError"]}
    },
    "queues": {"default": {}, "work": {}},
    "routes": {
        "dl.flaky": "work",
        "dl.strict": {"queue": "work", "dead_letter": "any_failure"},
        "dl.slow": {"queue": "work", "dead_letter": "any_failure", "time_limit": 1},
    },
    "pools": {"default": {"queues": ["default"], "pool": "solo"}, "work": {"queues": ["work"]}},
}


def write_topology(tmp_path: Path, broker: str, backend: str) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(TOPOLOGY, sort_keys=False))
    (tmp_path / "dl_app.py").write_text(PROBE_APP)
    pythonpath = os.pathsep.join([str(tmp_path), str(EXAMPLES)])
    return path, worker_env(broker, path, CELERY_RESULT_BACKEND=backend, PROBE_REDIS=backend, PYTHONPATH=pythonpath)


@pytest.fixture
def cluster(tmp_path: Path, fresh_redis: RedisServer) -> Iterator[tuple[Path, dict[str, str], Celery]]:
    """Topology, environment, a producer app and one real worker per pool (prefork on `work`, solo on `default`)."""
    path, env = write_topology(tmp_path, fresh_redis.url, fresh_redis.url)
    producer = Celery("dl-producer", set_as_current=False)
    configure(producer, load(path, environ=env))
    workers: list[Process] = []
    try:
        for pool in ("work", "default"):
            kind = TOPOLOGY["pools"][pool].get("pool", "prefork")
            workers.append(start_worker("dl_app", [pool], f"{pool}@test", env, tmp_path / f"{pool}.log", pool=kind))
        yield path, env, producer
    finally:
        for worker in workers:
            worker.stop()


def cli_json(path: Path, env: dict[str, str], *args: str) -> Any:
    result = run_cli("--file", path, "dead", *args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def tries(server: RedisServer) -> list[list[str]]:
    return [item.decode().split("|") for item in server.client().lrange("dl:ran", 0, -1)]


def test_exhausted_task_is_kept_once_and_replay_runs_it_on_its_pool(
    cluster: tuple[Path, dict[str, str], Celery], fresh_redis: RedisServer
) -> None:
    path, env, producer = cluster
    flaky = producer.send_task("dl.flaky", args=[7], kwargs={"label": "a"})
    assert flaky.get(timeout=90, propagate=False) is not None and flaky.state == "FAILURE"
    wait_for(lambda: len(list(entries(fresh_redis.url))) == 1, 30, "the dead letter")
    (kept,) = cli_json(path, env, "list")
    assert {k: v for k, v in kept.items() if k != "time"} == {
        "id": flaky.id,
        "task": "dl.flaky",
        "args": [7],
        "kwargs": {"label": "a"},
        "exception": "ConnectionError",
        "message": "down 7",
        "attempts": 3,
        "queue": "work",
        "priority": 4,  # the message's, on Redis's scale (file priority 5)
        "headers": {},
    }
    assert cli_json(path, env, "show", flaky.id) == kept
    shown = run_cli("--file", path, "dead", "show", flaky.id, env=env).stdout
    assert 'args: [7]\nkwargs: {"label": "a"}\nexception: ConnectionError\nmessage: down 7\nattempts: 3\n' in shown
    assert [(task_id, host) for task_id, host, _ in tries(fresh_redis)] == [(flaky.id, "work@test")] * 3

    fresh_redis.client().set("dl:healed", "1")
    (replayed,) = cli_json(path, env, "replay", flaky.id)
    assert (replayed["id"], replayed["task"]) == (flaky.id, "dl.flaky") and replayed["new_id"] != flaky.id
    assert producer.AsyncResult(replayed["new_id"]).get(timeout=60) == 7
    assert tries(fresh_redis)[-1] == [replayed["new_id"], "work@test", "0"]
    assert cli_json(path, env, "list") == [] and fresh_redis.client().keys(PREFIX + "*") == []
    assert cli_json(path, env, "replay", "--all") == []  # an empty store: nothing to replay, not an error


def test_non_retryable_failure_is_kept_only_where_the_route_asks_and_only_once(
    cluster: tuple[Path, dict[str, str], Celery], fresh_redis: RedisServer, tmp_path: Path
) -> None:
    path, env, producer = cluster
    broken = producer.send_task("dl.broken")
    # the same task id delivered twice, as a redelivery after a lost ack would: one record
    strict = [producer.send_task("dl.strict", args=["note-1"], task_id="strict-1") for _ in range(2)]
    for result in (broken, *strict):
        result.get(timeout=60, propagate=False)
    wait_for(lambda: (tmp_path / "work.log").read_text().count("dl.strict[strict-1] raised") == 2, 30, "two runs")
    wait_for(lambda: len(list(entries(fresh_redis.url))) == 1, 30, "the dead letter")
    (kept,) = cli_json(path, env, "list")
    assert (kept["id"], kept["args"], kept["exception"], kept["attempts"]) == ("strict-1", ["note-1"], "ValueError", 1)
    assert kept["message"] == "a bug in note-1, kept" and kept["queue"] == "work"
    assert (tmp_path / "work.log").read_text().count("dead-lettered: task=dl.strict id=strict-1 queue=work") == 1
    assert "dead-lettered" not in (tmp_path / "default.log").read_text()

    refused = run_cli("--file", path, "dead", "purge", env=env)  # no --yes, no terminal: nothing deleted
    assert refused.returncode == 1 and len(list(entries(fresh_redis.url))) == 1
    purged = run_cli("--file", path, "dead", "purge", "--queue", "work", "--yes", env=env)
    assert (purged.returncode, purged.stdout) == (0, "purged 1 dead letter\n")
    assert list(entries(fresh_redis.url)) == []


def test_a_hard_time_limit_is_kept_where_the_route_asks(
    cluster: tuple[Path, dict[str, str], Celery], fresh_redis: RedisServer
) -> None:
    """The worker's main process reports it (the pool child is killed): the arguments come from the signal."""
    _, _, producer = cluster
    slow = producer.send_task("dl.slow", args=[30])
    slow.get(timeout=60, propagate=False)
    wait_for(lambda: len(list(entries(fresh_redis.url))) == 1, 30, "the dead letter")
    (kept,) = entries(fresh_redis.url)
    assert (kept["id"], kept["task"], kept["args"], kept["queue"]) == (slow.id, "dl.slow", [30], "work")
    assert kept["exception"] == "billiard.exceptions.TimeLimitExceeded"  # what celery.exceptions re-exports


def entry(task_id: str) -> dict[str, Any]:
    return {
        "id": task_id,
        "task": "dl.flaky",
        "args": [1],
        "kwargs": {},
        "queue": "work",
        "time": "2026-01-01T00:00:00Z",
    }


def test_keep_is_idempotent_by_task_id(fresh_redis: RedisServer) -> None:
    assert keep(fresh_redis.url, entry("t-1")) is True
    assert keep(fresh_redis.url, {**entry("t-1"), "args": [2]}) is False
    assert list(entries(fresh_redis.url)) == [entry("t-1")]


def test_a_failed_send_keeps_the_record(tmp_path: Path, fresh_redis: RedisServer) -> None:
    """RabbitMQ broker (down: nobody listens on the port), dead letters in the Redis result backend."""
    path, env = write_topology(tmp_path, f"amqp://guest:guest@127.0.0.1:{free_port()}//", fresh_redis.url)
    keep(fresh_redis.url, entry("t-1"))
    result = run_cli("--file", path, "dead", "replay", "t-1", env=env)
    assert result.returncode == 1
    assert result.stdout.startswith("FAILED t-1 (dl.flaky): OperationalError: ")
    assert result.stdout.endswith("; it stays in the store\n")
    assert "guest:guest" not in result.stdout + result.stderr
    assert list(entries(fresh_redis.url)) == [entry("t-1")]


def test_a_record_being_replayed_is_not_sent_twice(tmp_path: Path, fresh_redis: RedisServer) -> None:
    path, env = write_topology(tmp_path, fresh_redis.url, fresh_redis.url)
    keep(fresh_redis.url, entry("t-1"))
    fresh_redis.client().set(CLAIM_PREFIX + "t-1", "1")  # another replay holds it
    result = run_cli("--file", path, "dead", "replay", "--all", env=env)
    assert (result.returncode, result.stdout) == (1, "skipped t-1: another replay is sending it\n")
    assert list(entries(fresh_redis.url)) == [entry("t-1")]
    assert fresh_redis.client().llen("work") == 0


def test_usage_errors(tmp_path: Path, fresh_redis: RedisServer) -> None:
    path, env = write_topology(tmp_path, fresh_redis.url, fresh_redis.url)
    for args in (["replay"], ["replay", "t-1", "--all"], ["replay", "t-1", "--queue", "work"]):
        result = run_cli("--file", path, "dead", *args, env=env)
        assert result.returncode == 2 and "give one task id, or --all" in result.stderr, args
    missing = run_cli("--file", path, "dead", "show", "nope", env=env)
    assert (missing.returncode, missing.stderr) == (1, "no dead letter with id nope; see `celery-topology dead list`\n")
