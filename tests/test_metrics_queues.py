"""GET /metrics against a real redis-server (priority lists) and the machine's RabbitMQ: depth, per priority, oldest age."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from celery_topology import configure, load
from celery_topology.cluster.health import standalone_app, workers_app
from celery_topology.runtime.marks import PUBLISHED_HEADER
from celery_topology.topology.brokerkeys import redis_queue_keys
from celery_topology.topology.model import Topology

from support import RedisServer, wait_for

pytestmark = pytest.mark.celery_internals  # kombu's Redis priority lists; CI also runs these on the lowest Celery

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
FILE_PRIORITIES = (9, 7, 5, 3, 0)  # five priority lists, the base list (file 9 = Redis 0) among them


def topology_file(tmp: Path, url: str, queues: tuple[str, str]) -> Topology:
    path = tmp / "topology.yaml"
    path.write_text(
        "version: 1\napp: probe.app\nbroker: {url: '${CELERY_BROKER_URL}'}\n"
        f"defaults: {{queue: {queues[0]}, max_wait: 1m}}\n"
        f"queues: {{{queues[0]}: {{}}, {queues[1]}: {{max_depth: 10}}}}\n"
        f"pools: {{main: {{queues: [{queues[0]}, {queues[1]}]}}}}\n"
    )
    return load(path, environ={"CELERY_BROKER_URL": url})


def scrape(client: TestClient, path: str = "/metrics") -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of GET /metrics, keyed by (name, sorted labels)."""
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def producer(topology: Topology) -> Celery:
    app = Celery("metrics-test-producer", set_as_current=False)
    configure(app, topology)
    return app


def publish_20(app: Celery, queue: str) -> None:
    for priority in FILE_PRIORITIES:
        for _ in range(4):
            # The file's scale (9 most urgent) is what the router gives; a caller's priority is native.
            native = 9 - priority if app.conf.broker_url.startswith("redis") else priority
            app.send_task("probe.task", queue=queue, priority=native)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def test_redis_depth_sums_every_priority_list(tmp_path: Path, redis_server: RedisServer) -> None:
    topology = topology_file(tmp_path, redis_server.url, ("default", "agent"))
    publish_20(producer(topology), "agent")
    db = redis_server.client()
    assert db.llen("agent") == 4  # what a base-list count (celery-exporter's) sees
    assert sum(db.llen(k) for k in redis_queue_keys("agent", {"priority_steps": list(range(10))})) == 20
    with TestClient(standalone_app(topology, timeout=0.5)) as client:
        found = scrape(client)
    with TestClient(workers_app(topology, timeout=0.5)) as mounted:  # the app mounted at /workers
        assert scrape(mounted)[("celery_topology_queue_depth", (("queue", "agent"),))] == 20
    assert found[("celery_topology_queue_depth", (("queue", "agent"),))] == 20
    assert found[("celery_topology_queue_depth", (("queue", "default"),))] == 0
    by_priority = {
        int(dict(labels)["priority"]): value
        for (name, labels), value in found.items()
        if name == "celery_topology_queue_depth_by_priority" and dict(labels)["queue"] == "agent"
    }
    assert by_priority == {p: 4 if p in FILE_PRIORITIES else 0 for p in range(10)}
    assert found[("celery_topology_broker_up", ())] == 1
    assert found[("celery_topology_queue_max_depth", (("queue", "agent"),))] == 10
    assert found[("celery_topology_queue_max_wait_seconds", (("queue", "agent"),))] == 60
    assert found[("celery_topology_dead_letters", (("queue", "agent"),))] == 0
    assert found[("celery_topology_pool_workers", (("pool", "main"),))] == 0
    assert found[("celery_topology_pool_workers_declared", (("pool", "main"),))] == 1


def _stamp(raw: bytes) -> float:
    return float(json.loads(raw)["headers"][PUBLISHED_HEADER])


def test_redis_oldest_age_grows_and_resets_when_consumed(tmp_path: Path, redis_server: RedisServer) -> None:
    topology = topology_file(tmp_path, redis_server.url, ("default", "agent"))
    app = producer(topology)
    before = time.time()
    app.send_task("probe.first", queue="agent")  # the default priority: Redis list agent\x06\x164
    wait_for(lambda: time.time() - before > 1.0, 10, "a second to pass")
    app.send_task("probe.urgent", queue="agent", priority=0)  # the base list, taken first by a worker
    app.send_task("probe.third", queue="agent")
    first, third = (_stamp(raw) for raw in redis_server.client().lrange("agent\x06\x164", 0, -1)[::-1])
    assert before <= first < third
    age = ("celery_topology_queue_oldest_age_seconds", (("queue", "agent"),))

    def consume(task: str) -> None:  # from the end a worker's BRPOP takes, most urgent list first
        with app.connection_for_read() as conn:
            assert conn.default_channel.basic_get("agent", no_ack=True).headers["task"] == task

    with TestClient(standalone_app(topology, timeout=0.5)) as client:
        one = scrape(client)[age]
        assert one >= time.time() - first - 1  # at least as old as the first message's stamp says, give or take
        wait_for(lambda: scrape(client)[age] > one + 0.5, 30, "the age to grow with the clock")
        consume("probe.urgent")
        assert scrape(client)[age] > one  # the oldest waits in another list: still its age
        consume("probe.first")
        reset = scrape(client)[age]
        assert reset <= time.time() - third  # now from the third message's stamp,
        assert third - first > 0.9  # which is a second younger than the first's
        consume("probe.third")
        assert scrape(client)[age] == 0  # nothing waits


def test_rabbitmq_depth_is_the_same(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    queues = (f"mt-default-{suffix}", f"mt-agent-{suffix}")
    topology = topology_file(tmp_path, RABBITMQ, queues)
    app = producer(topology)
    try:
        publish_20(app, queues[1])
        with TestClient(standalone_app(topology, timeout=0.5)) as client:
            depth = ("celery_topology_queue_depth", (("queue", queues[1]),))
            wait_for(lambda: scrape(client).get(depth) == 20, 30, "RabbitMQ to count 20")
            found = scrape(client)
        # Nobody published to the other queue yet: RabbitMQ does not have it (a passive declare says NOT_FOUND).
        assert ("celery_topology_queue_depth", (("queue", queues[0]),)) not in found
        assert found[("celery_topology_broker_up", ())] == 1
        # Not measurable without consuming on RabbitMQ: no age, no per-priority split, no dead-letter store.
        assert not [
            key
            for key in found
            if key[0].startswith(
                ("celery_topology_queue_oldest", "celery_topology_queue_depth_by", "celery_topology_dead")
            )
        ]
    finally:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            for queue in queues:
                channel.queue_delete(queue)
                channel.exchange_delete(queue)


def test_a_send_with_its_own_headers_is_stamped_anew(tmp_path: Path, redis_server: RedisServer) -> None:
    """A retry or a dead-letter replay passes the old message's headers, old stamp included: the send is stamped anew."""
    topology = topology_file(tmp_path, redis_server.url, ("default", "agent"))
    given = {"trace": "t-1", PUBLISHED_HEADER: 1.0}
    before = time.time()
    producer(topology).send_task("probe.replayed", queue="agent", headers=given)
    (raw,) = redis_server.client().lrange("agent\x06\x164", 0, -1)
    headers = json.loads(raw)["headers"]
    assert headers["trace"] == "t-1" and before <= headers[PUBLISHED_HEADER] <= time.time()
    assert given == {"trace": "t-1", PUBLISHED_HEADER: 1.0}  # the caller's dict is left as it was
