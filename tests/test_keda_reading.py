"""What KEDA would read, reproduced on real brokers: 40 tasks published through the configured app
over ten priorities; for every trigger of the rendered ScaledObject, the length of its list (in its
database) or queue; the formula over those values is 40. The one list a hand-written KEDA trigger
reads (the queue's name) holds about a tenth of it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from celery import Celery
from kombu import Connection

from celery_topology import configure, load
from celery_topology.render import render

from support import RedisServer, wait_for

pytestmark = pytest.mark.celery_internals  # kombu's Redis priority lists; CI also runs these on the lowest Celery

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
TOPOLOGY = """
version: 1
app: shop.celery:app
broker: {{url: "${{CELERY_BROKER_URL}}"}}
defaults: {{queue: {a}}}
queues: {{{a}: {{}}, {b}: {{}}, {c}: {{}}}}
routes:
  shop.a.*: {a}
  shop.b.*: {b}
  shop.c.*: {c}
pools:
  single: {{queues: [{a}], concurrency: 2, scale: {{min: 0, max: 10, per_replica: 5}}}}
  double: {{queues: [{b}, {c}], concurrency: 2, scale: {{min: 1, max: 10, per_replica: 5}}}}
deploy:
  working_directory: /app
  celery: /app/.venv/bin/celery
  kubernetes: {{image: "example/app:1"}}
"""


def write(tmp_path: Path, url: str, names: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Celery]:
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY.format(**names))
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    app = Celery("keda-reading", set_as_current=False)
    configure(app, path)
    return path, app


def publish(app: Celery, task: str, per_priority: int) -> None:
    """`per_priority` tasks at each of the ten priorities, through the app's own routing."""
    for priority in range(10):
        for _ in range(per_priority):
            app.send_task(task, priority=priority)


def scaled_objects(path: Path) -> dict[str, dict[str, Any]]:
    files = render(load(path), "kubernetes", "topology.yaml")  # the broker URL from the environment
    docs = [d for f in files for d in yaml.safe_load_all(f.text) if d]
    return {d["metadata"]["name"].rsplit("-", 1)[-1]: d["spec"] for d in docs if d["kind"] == "ScaledObject"}


def formula(spec: dict[str, Any], values: dict[str, int]) -> int:
    """KEDA's formula evaluated on the triggers' values (it is a plain sum of names: checked)."""
    text = spec["advanced"]["scalingModifiers"]["formula"]
    names = text.split(" + ")
    assert all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names) and sorted(names) == sorted(values)
    return sum(values[n] for n in names)


@pytest.fixture
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {key: f"keda{key}-{suffix}" for key in "abc"}


def test_redis_keda_reads_every_priority_list(
    tmp_path: Path, fresh_redis: RedisServer, names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, app = write(tmp_path, f"redis://127.0.0.1:{fresh_redis.port}/3", names, monkeypatch)
    publish(app, "shop.a.work", 4)  # 40 into the single pool's one queue
    publish(app, "shop.b.work", 2)  # 20 + 20 into the double pool's two queues
    publish(app, "shop.c.work", 2)
    for pool, spec in scaled_objects(path).items():
        values = {}
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            client = redis.Redis(port=fresh_redis.port, db=int(meta["databaseIndex"]))
            values[trigger["name"]] = client.llen(meta["listName"])
        assert formula(spec, values) == 40, pool
        base = [values[t["name"]] for t in spec["triggers"] if t["metadata"]["listName"] in names.values()]
        assert sum(base) == 4, pool  # what a trigger on the queue's name alone reads
        assert sum(1 for v in values.values() if v) == len(values)  # every priority list holds messages
    database = redis.Redis(port=fresh_redis.port, db=3)
    assert sum(database.llen(k) for k in database.scan_iter() if database.type(k) == b"list") == 80  # no list missed
    assert redis.Redis(port=fresh_redis.port, db=0).dbsize() == 0  # databaseIndex is the one the URL names


@pytest.fixture
def rabbit_queues(names: dict[str, str]) -> Iterator[dict[str, str]]:
    yield names
    with Connection(RABBITMQ) as conn:
        channel = conn.channel()
        for name in names.values():
            channel.queue_delete(name)
            channel.exchange_delete(name)


def test_rabbitmq_keda_reads_every_queue(
    tmp_path: Path, rabbit_queues: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, app = write(tmp_path, RABBITMQ, rabbit_queues, monkeypatch)
    publish(app, "shop.a.work", 4)
    publish(app, "shop.b.work", 2)
    publish(app, "shop.c.work", 2)

    def depths(spec: dict[str, Any]) -> dict[str, int]:
        with Connection(RABBITMQ) as conn:
            channel = conn.channel()
            return {
                t["name"]: channel.queue_declare(t["metadata"]["queueName"], passive=True).message_count
                for t in spec["triggers"]
            }

    for pool, spec in scaled_objects(path).items():
        assert {t["metadata"]["mode"] for t in spec["triggers"]} == {"QueueLength"}
        wait_for(lambda spec=spec: formula(spec, depths(spec)) == 40, 30, f"40 messages counted for {pool}")
    double = depths(scaled_objects(path)["double"])
    assert sorted(double.values()) == [20, 20]  # one queue alone is half of it
