"""The compiled router gives exactly Celery's answer (`celery.app.routes.Router` over glob `task_routes`)."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery
from celery.app.routes import Router as CeleryRoutes
from celery.app.routes import prepare
from hypothesis import example, given, settings
from hypothesis import strategies as st
from kombu.entity import Queue

from celery_topology.topology.model import Topology
from celery_topology.topology.routing import Router, literal_prefix

pytestmark = pytest.mark.celery_internals  # CI also runs these on the lowest supported Celery

QUEUES = ["default", "q1", "q2", "q3"]
CELERY = Celery("router-property", set_as_current=False)
CELERY.conf.task_default_queue = "default"
PATTERN_CHARS = "ab.*?[]!-"
NAME_CHARS = "ab.-[]!?c"


def topology(routes: dict[str, dict[str, Any]], default_priority: int = 5) -> Topology:
    return Topology.model_validate(
        {
            "version": 1,
            "app": "app",
            "broker": {"url": "redis://127.0.0.1:6379/0"},
            "defaults": {"priority": default_priority},
            "queues": {q: {} for q in QUEUES},
            "routes": routes,
            "pools": {"all": {"queues": QUEUES}},
        }
    )


def celery_answer(routes: dict[str, dict[str, Any]], name: str, default_priority: int) -> tuple[str, int]:
    """Celery's own routing for the same ordered keys, with the topology's default priority where it gives none."""
    router = CeleryRoutes(
        routes=prepare((routes,)), queues={q: Queue(q) for q in QUEUES}, create_missing=False, app=CELERY
    )
    options = router.route({}, name)
    queue = options["queue"].name if "queue" in options else "default"
    return queue, options.get("priority", default_priority)


route_value = st.fixed_dictionaries(
    {"queue": st.sampled_from(QUEUES)}, optional={"priority": st.integers(min_value=0, max_value=9)}
)


@settings(max_examples=500, deadline=None)
@given(
    routes=st.dictionaries(st.text(PATTERN_CHARS, min_size=1, max_size=7), route_value, max_size=12),
    names=st.lists(st.text(NAME_CHARS, max_size=9), min_size=5, max_size=15),
    default_priority=st.integers(min_value=0, max_value=9),
)
@example(routes={"*": {"queue": "default"}, "**": {"queue": "q1"}}, names=["", "a"] * 3, default_priority=5)
def test_router_equals_celery(routes: dict[str, dict[str, Any]], names: list[str], default_priority: int) -> None:
    """About 500 pattern lists x 5-15 names each: several thousand (pattern list, task name) pairs."""
    ours = Router(topology(routes, default_priority))
    for name in names:
        found = ours.resolve(name)
        assert (found.queue, found.priority) == celery_answer(routes, name, default_priority), (routes, name)


def test_celery_rules_pinned() -> None:
    """The rules the property test relies on, spelled out: exact wins anywhere, then first pattern in order."""
    routes = {
        "a.*": {"queue": "q1", "priority": 1},
        "a.b.*": {"queue": "q2", "priority": 2},
        "a.b.exact": {"queue": "q3"},
        "x?y": {"queue": "q3", "priority": 9},
        "*.[!z]end": {"queue": "q2", "priority": 7},
    }
    router = Router(topology(routes))
    expect = {
        "a.b.c": ("q1", 1),  # `*` crosses dots; the first pattern wins over a longer one below it
        "a.b.exact": ("q3", 5),  # an exact key wins wherever it stands
        "x?y": ("q3", 9),  # no `*`: an exact name, so `?` is literal
        "xay": ("default", 5),
        "k.bend": ("q2", 7),
        "k.zend": ("default", 5),
        "A.b": ("default", 5),  # case-sensitive
    }
    for name, answer in expect.items():
        found = router.resolve(name)
        assert (found.queue, found.priority) == answer == celery_answer(routes, name, 5), name


def test_literal_prefix() -> None:
    assert [literal_prefix(p) for p in ("a.b.*", "*", "a?b*", "ab[c]*", "abc")] == ["a.b.", "", "a", "ab", "abc"]
