"""The indexed checks answer exactly what the plain scans they replaced answered (those scans are the spec here)."""

from __future__ import annotations

import fnmatch
import pickle
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from celery_topology.topology import checks
from celery_topology.topology.document import Document
from celery_topology.topology.model import Topology
from celery_topology.topology.routing import longest_task_time_limit, route_limits, shared_router


def topology(routes: dict[str, object], pools: dict[str, object] | None = None, beat: object = None) -> Topology:
    queues = {q: {} for q in ("default", "a", "b", "c")}
    data = {"version": 1, "app": "app", "broker": {"url": "redis://localhost/0"}, "queues": queues, "routes": routes}
    data["pools"] = pools or {"all": {"queues": list(queues)}}
    data["defaults"] = {"time_limit": 60}
    if beat is not None:
        data["beat"] = {"schedule": beat}
    return Topology.model_validate(data)


def shadowed_by_scanning(patterns: list[str]) -> list[tuple[str, str, str]]:
    """checks.shadowed_routes before it was indexed: every pattern against every earlier one."""
    found = []
    for i, later in enumerate(patterns):
        for earlier in patterns[:i]:
            if fnmatch.translate(earlier) == fnmatch.translate(later):
                found.append((later, "route-duplicate-pattern", earlier))
                break
            prefix = earlier[:-1]
            if earlier.endswith("*") and not re.search(r"[*?\[]", prefix) and later.startswith(prefix):
                found.append((later, "route-shadowed", earlier))
                break
    return found


PATTERN = st.text(alphabet="ab.*?[]!", min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(PATTERN, max_size=25, unique=True))
def test_shadowed_routes_reports_what_scanning_reported(keys: list[str]) -> None:
    problems = list(checks.shadowed_routes(topology(dict.fromkeys(keys, "a")), Document("t.yaml")))
    expected = shadowed_by_scanning([k for k in keys if "*" in k])
    assert [(p.path.removeprefix("routes."), p.code) for p in problems] == [(k, code) for k, code, _ in expected]
    for problem, (_, _, earlier) in zip(problems, expected, strict=True):
        assert f"{earlier!r}" in problem.message


def limits_by_scanning(t: Topology, queues: list[str]) -> tuple[int, str] | None:
    """The longest of routing.task_time_limits before it was indexed: every route and beat entry per pool."""
    d = t.defaults
    found = [(d.time_limit, "defaults")] if d.queue in queues else []
    for key, route in t.routes.items():
        if (route.queue or d.queue) in queues:
            found.append((route_limits(t, route)[1], f"route {key!r}"))
    for name, entry in (t.beat.schedule if t.beat is not None else {}).items():
        resolved = shared_router(t).resolve(entry.task)
        if (entry.queue or resolved.queue) in queues:
            found.append((resolved.time_limit, f"beat entry {name!r}"))
    return max([(limit, where) for limit, where in found if limit is not None], key=lambda i: i[0], default=None)


ROUTE = st.fixed_dictionaries(
    {},
    optional={"queue": st.sampled_from(["default", "a", "b", "c"]), "time_limit": st.sampled_from([30, 60, 90])},
)
ENTRY = st.fixed_dictionaries(
    {"task": st.sampled_from(["x.a", "x.b", "y.c", "z"]), "every": st.just(60)},
    optional={"queue": st.sampled_from(["default", "a", "b", "c"])},
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["x.*", "x.a", "y.*", "*", "x.b", "z"]), ROUTE, max_size=6),
    st.dictionaries(st.sampled_from(["e1", "e2", "e3"]), ENTRY, max_size=3),
    st.lists(st.sampled_from(["default", "a", "b", "c"]), min_size=1, max_size=4, unique=True),
)
def test_longest_time_limit_per_pool_is_what_scanning_found(
    routes: dict[str, object], beat: dict[str, object], queues: list[str]
) -> None:
    t = topology(routes, beat=beat)
    assert longest_task_time_limit(t, queues) == limits_by_scanning(t, queues)


def test_one_router_per_topology_and_a_copy_builds_its_own() -> None:
    t = topology({"x.*": "a"})
    assert shared_router(t) is shared_router(t)
    copy = t.model_copy(update={"routes": {}})
    assert shared_router(copy).topology is copy
    assert shared_router(copy).resolve("x.y").queue == "default"
    assert shared_router(t).resolve("x.y").queue == "a"
    assert copy.consumers("a") == ["all"] and t.consumers("nowhere") == []
    deep = t.model_copy(deep=True)
    assert deep == t and shared_router(deep).topology is deep
    assert pickle.loads(pickle.dumps(t)) == t
