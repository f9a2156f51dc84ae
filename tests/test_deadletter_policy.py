"""`dead_letter: {when, keep, keep_args}`: the mapping form, how long records stay, arguments never
kept where the route says so, replay to the original queue with its priority and headers, and the
`dead` commands' edges (a failed send among several, an id prefix, an unknown queue)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from celery import Celery

from celery_topology import TopologyError, configure, load
from celery_topology.cluster.deadletters import entries
from celery_topology.runtime.deadletter import Policy, keep, policy

from support import EXAMPLES, Process, RedisServer, run_cli, start_worker, wait_for, worker_env

pytestmark = pytest.mark.celery_internals  # kombu's unacked hash; CI also runs these on the lowest Celery

CANARY = "patient-note-Zq81"
APP = """
import os
import redis
from celery import Celery
from celery_topology import configure

app = Celery("dp_app")
configure(app)
log = redis.Redis.from_url(os.environ["PROBE_REDIS"])


@app.task(name="dp.fragile", bind=True)
def fragile(self, note):
    info = self.request.delivery_info or {}
    log.rpush("dp:runs", "|".join([info.get("routing_key", ""), str(info.get("priority")), str((self.request.headers or {}).get("x-tenant"))]))
    if not log.get("dp:healed"):
        raise ValueError(f"cannot parse {note}")
    return note


@app.task(name="dp.private")
def private(note):
    raise ValueError("cannot parse the note")  # the result backend keeps what the code writes in its exception
"""
TOPOLOGY: dict[str, Any] = {
    "version": 1,
    "app": "dp_app",
    "broker": {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_BROKER_URL}"},
    "defaults": {"dead_letter": {"when": "any_failure", "keep": "1d"}},
    "queues": {"default": {}, "work": {}, "other": {}},
    "routes": {
        "dp.private": {"queue": "work", "dead_letter": {"keep_args": False, "keep": 2}},
        "dp.*": "work",
    },
    "pools": {"default": {"queues": ["default"], "pool": "solo"}, "work": {"queues": ["work", "other"]}},
}


def write(tmp_path: Path, url: str, document: dict[str, Any] = TOPOLOGY) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    (tmp_path / "dp_app.py").write_text(APP)
    pythonpath = os.pathsep.join([str(tmp_path), str(EXAMPLES)])
    return path, worker_env(url, path, PROBE_REDIS=url, PYTHONPATH=pythonpath)


@pytest.fixture
def cluster(tmp_path: Path, fresh_redis: RedisServer) -> Iterator[tuple[Path, dict[str, str], Celery]]:
    path, env = write(tmp_path, fresh_redis.url)
    producer = Celery("dp-producer", set_as_current=False)
    configure(producer, load(path, environ=env))
    worker: Process = start_worker("dp_app", ["work", "other"], "work@dp", env, tmp_path / "work.log")
    try:
        yield path, env, producer
    finally:
        worker.stop()


def dead(path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    done = run_cli("--file", path, "dead", *args, env=env)
    return done.returncode, done.stdout, done.stderr


def everything_in(client: redis.Redis) -> str:
    """Every value of every key, as text: where an argument could hide."""
    reads = {"string": client.get, "list": lambda k: client.lrange(k, 0, -1), "hash": client.hgetall}
    reads |= {"set": client.smembers, "zset": lambda k: client.zrange(k, 0, -1)}
    return "\n".join(f"{key!r} {reads[client.type(key).decode()](key)!r}" for key in client.scan_iter())


def test_the_mapping_form_and_the_shorthand_resolve_key_by_key(tmp_path: Path) -> None:
    document = {**TOPOLOGY, "routes": {**TOPOLOGY["routes"], "dp.off": {"queue": "work", "dead_letter": "off"}}}
    topology = load(write(tmp_path, "redis://127.0.0.1:1/0")[0], environ={"CELERY_BROKER_URL": "redis://h/0"})
    assert policy(topology, "dp.private") == Policy(when="any_failure", keep=2, keep_args=False)
    assert policy(topology, "dp.*") == Policy(when="any_failure", keep=86400, keep_args=True)
    path, _ = write(tmp_path, "", document)
    assert policy(load(path, environ={"CELERY_BROKER_URL": "redis://h/0"}), "dp.off").when == "off"
    bad = {**TOPOLOGY, "defaults": {"dead_letter": {"keep": 0}}}
    with pytest.raises(TopologyError, match=r"defaults.dead_letter.keep: keep must be at least 1s"):
        load(write(tmp_path, "", bad)[0], environ={"CELERY_BROKER_URL": "redis://h/0"})


def test_keep_args_false_leaves_the_arguments_nowhere_and_records_expire(
    cluster: tuple[Path, dict[str, str], Celery], fresh_redis: RedisServer
) -> None:
    path, env, producer = cluster
    private = producer.send_task("dp.private", args=[CANARY], kwargs={})
    private.get(timeout=60, propagate=False)
    wait_for(lambda: list(entries(fresh_redis.url)), 30, "the dead letter")
    (kept,) = entries(fresh_redis.url)
    assert (kept["id"], kept["args"], kept["kwargs"], kept["message"]) == (private.id, None, None, None)
    assert kept["exception"] == "ValueError"
    client = fresh_redis.client()
    wait_for(lambda: client.hlen("unacked") == 0, 30, "the message acknowledged")
    assert [line for line in everything_in(client).splitlines() if CANARY in line] == []
    code, out, _ = dead(path, env, "replay", private.id)
    assert (code, out) == (
        1,
        f"cannot replay {private.id}: its arguments were not kept (dead_letter.keep_args: false)\n",
    )
    wait_for(lambda: not list(entries(fresh_redis.url)), 30, "the record gone after keep: 2s")
    wait_for(lambda: client.keys("celery-topology.dead*") == [], 30, "the record and its index expired by Redis")


def test_replay_keeps_the_queue_priority_and_headers(
    cluster: tuple[Path, dict[str, str], Celery], fresh_redis: RedisServer
) -> None:
    path, env, producer = cluster
    sent = producer.send_task("dp.fragile", args=["n"], queue="other", priority=2, headers={"x-tenant": "t7"})
    sent.get(timeout=60, propagate=False)
    wait_for(lambda: list(entries(fresh_redis.url)), 30, "the dead letter")
    fresh_redis.client().set("dp:healed", "1")
    code, out, err = dead(path, env, "replay", sent.id, "--format", "json")
    assert code == 0, err
    (replayed,) = json.loads(out)
    assert producer.AsyncResult(replayed["new_id"]).get(timeout=60) == "n"
    runs = [r.decode() for r in fresh_redis.client().lrange("dp:runs", 0, -1)]
    assert runs == ["other|2|t7", "other|2|t7"]  # the route would say work, at file priority 5 (4 on Redis)


def test_replay_all_says_which_were_replayed_when_one_send_fails(tmp_path: Path, fresh_redis: RedisServer) -> None:
    path, env = write(tmp_path, fresh_redis.url)
    base = {"task": "dp.fragile", "args": ["n"], "kwargs": {}, "time": "2026-01-01T00:00:00Z", "headers": {}}
    for task_id, queue in (("a-1", "default"), ("b-2", "gone"), ("c-3", "work")):  # listed by queue name
        keep(fresh_redis.url, {**base, "id": task_id, "queue": queue, "priority": None})
    code, out, _ = dead(path, env, "replay", "--all")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3
    assert lines[0].startswith("replayed a-1 (dp.fragile) as ")
    assert lines[1] == "FAILED b-2 (dp.fragile): queue 'gone' is no longer declared; it stays in the store"
    assert lines[2].startswith("replayed c-3 (dp.fragile) as ")
    assert [e["id"] for e in entries(fresh_redis.url)] == ["b-2"]


def test_replay_all_stops_at_a_send_the_broker_refuses_and_lists_the_rest(
    tmp_path: Path, fresh_redis: RedisServer
) -> None:
    """A send the broker itself refuses, mid-way: Redis's ACL lets this user write every key but those
    starting with 'o', so kombu's commands on queue 'other' answer NOPERM. The record before it is replayed,
    it fails with the broker's reason, the one after is not attempted, and both stay in the store."""
    fresh_redis.client().execute_command(
        "ACL", "SETUSER", "replayer", "on", ">replay-Pw-41", "allcommands", "allchannels", "~[^o]*"
    )
    url = fresh_redis.url.replace("redis://", "redis://replayer:replay-Pw-41@")
    path, env = write(tmp_path, url)
    base = {"task": "dp.fragile", "args": ["n"], "kwargs": {}, "time": "2026-01-01T00:00:00Z", "headers": {}}
    for task_id, queue in (("a-1", "default"), ("o-2", "other"), ("w-3", "work")):  # listed by queue name
        keep(url, {**base, "id": task_id, "queue": queue, "priority": None})
    code, out, err = dead(path, env, "replay", "--all")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 3, out + err
    assert lines[0].startswith("replayed a-1 (dp.fragile) as ")
    assert lines[1].startswith("FAILED o-2 (dp.fragile): ") and "no permissions" in lines[1], lines[1]
    assert lines[1].endswith("; it stays in the store")
    assert lines[2] == "not replayed w-3 (dp.fragile): the broker failed above; it stays in the store"
    assert [e["id"] for e in entries(url)] == ["o-2", "w-3"]
    client = fresh_redis.client()
    assert sum(client.llen(k) for k in client.scan_iter(match="default*")) == 1  # any of its priority lists
    assert not list(client.scan_iter(match="other*"))
    assert "replay-Pw-41" not in out + err


def test_show_takes_a_unique_prefix_and_an_unknown_queue_is_an_error(tmp_path: Path, fresh_redis: RedisServer) -> None:
    path, env = write(tmp_path, fresh_redis.url)
    for task_id in ("abc-1", "abd-2"):
        keep(fresh_redis.url, {"id": task_id, "task": "dp.fragile", "queue": "work", "time": "2026-01-01T00:00:00Z"})
    code, out, _ = dead(path, env, "show", "abc")
    assert code == 0 and out.startswith("id: abc-1\n")
    code, _, err = dead(path, env, "show", "ab")
    assert (code, err) == (1, "'ab' is the start of several dead letters' ids: abc-1, abd-2; give more of it\n")
    for command in (["list"], ["purge", "--yes"], ["replay", "--all"]):
        code, _, err = dead(path, env, *command, "--queue", "wrok")
        assert code == 2 and "unknown queue 'wrok' (declared: default, work, other)" in err, command
