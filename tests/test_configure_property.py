"""Every topology validate accepts configures a real Celery app: generated valid topologies, applied to apps."""

from __future__ import annotations

from typing import Any

from celery import Celery
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from celery_topology import TopologyError, configure
from celery_topology.topology.model import Topology

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
FIELD = st.sampled_from(
    ["*", "*/5", "0", "05", "1-5", "22-2", "1,15,30", "mon-fri", "jan", "sunday", "7", "31", "5/15"]
)
CRON = st.lists(FIELD, min_size=5, max_size=5).map(" ".join)
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
        "queues": {q: {"max_priority": draw(st.integers(0, 255))} for q in queues},
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
