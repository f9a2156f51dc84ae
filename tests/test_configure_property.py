"""Every topology validate accepts configures a real Celery app: generated valid topologies, applied to apps."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from celery_topology import TopologyError, configure, load
from celery_topology.topology.model import Topology

from support import RedisServer, start_worker, wait_for, worker_env

SHOP_APP = """from celery import Celery

from celery_topology import configure

app = Celery("shop")


@app.task(name="shop.tasks.tick")
def tick():
    pass


configure(app)
"""

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
FIELD = st.sampled_from(
    ["*", "*/5", "0", "05", "1-5", "22-2", "1,15,30", "mon-fri", "jan", "sunday", "7", "31", "5/15"]
)
CRON = st.lists(FIELD, min_size=5, max_size=5).map(" ".join)
BINDING = st.fixed_dictionaries(
    {},
    optional={
        "exchange_type": st.sampled_from(["direct", "topic", "fanout"]),
        "routing_key": st.sampled_from(["", "jobs.#", "a.b"]),
        "delivery_mode": st.sampled_from(["persistent", "transient"]),
    },
)
LIMIT = st.one_of(st.none(), st.integers(0, 7200), st.sampled_from(["30s", "10m", "0s"]))


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, Any]:
    queues = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    routes = {
        f"shop.{draw(NAMES)}.*": {"queue": draw(st.sampled_from(queues)), "priority": draw(st.integers(0, 9))}
        for _ in range(draw(st.integers(0, 3)))
    }
    schedule = {
        f"entry-{i}": {
            "task": "shop.tasks.tick",
            **({"cron": draw(CRON)} if draw(st.booleans()) else {"every": draw(st.integers(0, 86400))}),
        }
        for i in range(draw(st.integers(0, 3)))
    }
    limits = {k: v for k in ("time_limit", "soft_time_limit") if (v := draw(LIMIT)) is not None}
    return {
        "version": 1,
        "app": "shop.app",
        "broker": {"url": draw(st.sampled_from(["redis://127.0.0.1:6379/0", "amqp://guest@127.0.0.1:5672//"]))},
        "defaults": {"queue": queues[0], "priority": draw(st.integers(0, 9)), **limits},
        "queues": {q: {"max_priority": draw(st.integers(0, 255)), **draw(BINDING)} for q in queues},
        "routes": routes,
        "pools": {"all": {"queues": queues}},
        "beat": {"schedule": schedule},
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_what_validate_accepts_configure_applies(body: dict[str, Any]) -> None:
    try:
        topology = Topology.model_validate(body)
    except (ValueError, TopologyError):
        event("refused by validate")
        return
    event("accepted by validate: configured")
    app = Celery("generated", set_as_current=False)
    app.task(name="shop.tasks.tick", shared=False)(_tick)
    configure(app, topology)
    app.finalize(auto=True)
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] == "shop.tasks.tick", name
    for key in topology.routes:
        task = key.replace("*", "x")
        assert app.amqp.router.route({}, task)["queue"].name == topology.routes[key].queue
    assert app.tasks["shop.tasks.tick"].time_limit == topology.defaults.time_limit


def _tick() -> None:
    """A task for the generated beat entries."""


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


# Each example starts a real worker: a few, each bounded by start_worker's and wait_for's own timeouts; no
# shrinking (each try is a worker start): a failure is reported as generated.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(body=topologies())
def test_a_worker_started_from_a_generated_topology_consumes_its_pools_queues(
    body: dict[str, Any], redis_server: RedisServer
) -> None:
    body["broker"] = {"url": redis_server.url}
    with tempfile.TemporaryDirectory(prefix="ct-prop-") as directory:
        workdir = Path(directory)
        (workdir / "topology.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
        try:
            topology = load(workdir / "topology.yaml", environ={})  # everything validate checks, as configure loads it
        except TopologyError:
            assume(False)
            return
        (workdir / "shop").mkdir()
        (workdir / "shop" / "__init__.py").write_text("")
        (workdir / "shop" / "app.py").write_text(SHOP_APP)
        env = worker_env(redis_server.url, workdir / "topology.yaml")
        hostname = f"prop-{uuid.uuid4().hex[:8]}@localhost"
        queues = topology.pools["all"].queues
        worker = start_worker("shop.app", queues, hostname, env, workdir / "worker.log")
        try:
            declared = {
                name: (
                    spec.exchange or name,
                    spec.exchange_type,
                    name if spec.routing_key is None else spec.routing_key,
                )
                for name, spec in topology.queues.items()
                if name in queues
            }
            assert _consumed(redis_server.url, hostname) == declared, worker.output()[-3000:]
        finally:
            worker.stop()


def _consumed(broker: str, hostname: str) -> dict[str, tuple[str, str, str]]:
    """The queues the worker `hostname` says it consumes (asked until it answers): their exchange, its type, the key."""
    client = Celery("asker", broker=broker, set_as_current=False)
    answer: dict[str, list[dict[str, Any]]] = {}

    def answered() -> bool:
        answer.update(client.control.inspect(destination=[hostname], timeout=5).active_queues() or {})
        return hostname in answer

    wait_for(answered, 90, f"{hostname} to answer active_queues", interval=1)
    return {q["name"]: (q["exchange"]["name"], q["exchange"]["type"], q["routing_key"]) for q in answer[hostname]}
