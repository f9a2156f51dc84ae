"""`task_routes` in every form Celery accepts, as ordered topology routes.

Mappings (dict, list or tuple of pairs) become routes in their order: Celery tries a map's exact
names before its patterns, and the topology does the same. A router callable (or an import path
to one) cannot be read: it is reported, and what it answered for each registered task is written
as exact routes for a person to review. celery-topology's own router carries its topology.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Any

from celery import Celery
from celery.app.routes import Router as CeleryRoutes
from celery.app.routes import expand_router_string
from kombu.entity import Queue

from ..runtime.config import CeleryRouter
from .draft import Draft

ROUTE_KEYS = ("queue", "priority")


def _pairs(route_map: Any) -> list[tuple[str, Any]]:
    return list(route_map.items()) if isinstance(route_map, Mapping) else [tuple(pair) for pair in route_map]


def _shadowed(name: str, earlier: list[str]) -> bool:
    return any("*" in key and fnmatch.fnmatchcase(name, key) for key in earlier)


def route_body(key: str, value: Any, file_priority: Callable[[int], int], draft: Draft) -> dict[str, Any] | None:
    """A route's value (a queue name or a dict of options) as the topology writes it."""
    if isinstance(value, str | Queue):
        value = {"queue": value}
    body: dict[str, Any] = {}
    queue = value.get("queue")
    if queue is not None:
        body["queue"] = queue.name if isinstance(queue, Queue) else queue
    if value.get("priority") is not None:
        body["priority"] = file_priority(value["priority"])
    rest = sorted(k for k, v in value.items() if k not in ROUTE_KEYS and v is not None)
    if rest:
        draft.refuse(f"route {key!r}: {', '.join(rest)} have no topology form (the route keeps its queue)")
    if "queue" not in body:
        draft.refuse(f"route {key!r} names no queue (exchange or routing key only); route it by hand")
        return None
    return body


def own_routes(router: CeleryRouter) -> dict[str, dict[str, Any]]:
    """The routes of an app that celery-topology already configures: its topology's, as they are written."""
    return {key: route.model_dump(exclude_none=True) for key, route in router.topology.routes.items()}


def _answers(app: Celery, router: Any, names: list[str]) -> dict[str, Any]:
    routes = CeleryRoutes(app=app, queues=app.amqp.queues)
    found = {}
    for name in names:
        answer = routes.query_router(router, name, (), {}, {}, app.tasks.get(name))
        if answer is not None:
            found[name] = answer
    return found


def read_routes(app: Celery, file_priority: Callable[[int], int], draft: Draft) -> dict[str, Any]:
    """Every route of `app.conf.task_routes`, in the order Celery tries them."""
    configured = app.conf.task_routes
    if configured is None:
        return {}
    routers = configured if isinstance(configured, list | tuple) else (configured,)
    routes: dict[str, Any] = {}
    unanswered = sorted(name for name in app.tasks if not name.startswith("celery."))
    for router in routers:
        if isinstance(router, CeleryRouter):
            routes.update({k: v for k, v in own_routes(router).items() if k not in routes})
            continue
        if isinstance(router, Mapping | list | tuple):
            pairs = _pairs(router)
        else:
            callable_router = expand_router_string(router) if isinstance(router, str) else router
            answered = _answers(app, callable_router, unanswered)
            label = router if isinstance(router, str) else getattr(router, "__qualname__", type(router).__name__)
            draft.refuse(
                f"router {label} is code, not convertible; it answered for {len(answered)} registered task(s)"
                + (f": {', '.join(answered)} (written as exact routes: review them)" if answered else "")
            )
            pairs = list(answered.items())
        earlier = list(routes)
        for key, value in pairs:
            if key in routes or ("*" not in key and _shadowed(key, earlier)):  # Celery never reaches it
                continue
            body = route_body(key, value, file_priority, draft)
            if body is not None:
                routes[key] = body
        unanswered = [name for name in unanswered if matching_key(routes, name) is None]
    return {key: compact(body) for key, body in routes.items()}


def compact(body: dict[str, Any]) -> Any:
    """A route as the file writes it: its queue name alone when it has nothing else."""
    return body["queue"] if list(body) == ["queue"] else body


def matching_key(routes: dict[str, Any], name: str) -> str | None:
    """The route key Celery's MapRoute would pick for `name` among `routes`."""
    if name in routes:
        return name
    return next((key for key in routes if "*" in key and fnmatch.fnmatchcase(name, key)), None)
