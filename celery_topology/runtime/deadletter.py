"""Failed work kept, not lost: the worker's side of the dead-letter store.

A task whose retries are used up (`retries.on_retries_exhausted`), or that fails in any way where
its route says `dead_letter: any_failure`, is written to a Redis hash per source queue
(`store.py`), field = task id, value = a JSON record (task, id, args, kwargs, exception type and
message, attempts, queue, time). `HSETNX` makes the write idempotent: a redelivered task that
fails again, or the two receivers of an exhausted `any_failure` task, keep one record. With no
Redis store (RabbitMQ with another backend) failures are logged and `doctor` says so.

Why a hash and not a kombu queue `<queue>.dead`: a kombu queue can only be listed by consuming
(`basic_get`, then requeue), which reorders it and, on Redis, parks each message in `unacked`
until the visibility timeout if the lister dies; nor can a queue refuse a second copy of an id.
A hash is listed with one read, written once per id, and no status check sees it as a queue.
Listing, replay and purge are `cluster/deadletters.py`.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from typing import TYPE_CHECKING, Any

from ..topology.model import Topology
from .marks import POLICY_MARK
from .store import PREFIX, client, store_url

if TYPE_CHECKING:
    from celery import Celery, Task

logger = logging.getLogger("celery_topology.deadletter")
Call = tuple[Any, Any]  # (args, kwargs)
_topologies: weakref.WeakKeyDictionary[Celery, Topology] = weakref.WeakKeyDictionary()


def mode(topology: Topology, route_key: str | None) -> str:
    """`exhausted`, `any_failure` or `off`: the route's `dead_letter`, else the defaults'."""
    route = topology.routes.get(route_key) if route_key is not None else None
    return route.dead_letter if route is not None and route.dead_letter else topology.defaults.dead_letter


def record(task: Task, task_id: str, exc: BaseException, queue: str, call: Call | None = None) -> dict[str, Any]:
    """The record of a failed try; `call` (args, kwargs) where `task.request` is not the failed one's."""
    request = task.request
    args, kwargs = call or (request.args, request.kwargs)
    kind = type(exc)
    return {
        "id": task_id,
        "task": task.name,
        "args": list(args or ()),
        "kwargs": dict(kwargs or {}),
        "exception": kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}",
        "message": str(exc),
        "attempts": (request.retries or 0) + 1,
        "queue": queue,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def keep(url: str, entry: dict[str, Any]) -> bool:
    """Write `entry` once per task id; True if it was new."""
    return bool(client(url).hsetnx(PREFIX + entry["queue"], entry["id"], json.dumps(entry)))


def on_failure(task: Task, task_id: str, exc: BaseException, exhausted: bool, call: Call | None = None) -> None:
    """Keep the failed task if its route asks: always when exhausted (unless `off`), any failure if `any_failure`."""
    topology = _topologies.get(task.app)
    found = getattr(task, POLICY_MARK, None)
    if topology is None or found is None:
        return
    wanted = mode(topology, found.pattern)
    if wanted == "off" or (wanted == "exhausted" and not exhausted):
        return
    url = store_url(topology)
    delivered = str((task.request.delivery_info or {}).get("routing_key"))
    queue = delivered if delivered in topology.queues else found.queue
    if url is None:
        logger.error("dead letter not kept (no Redis store): task=%s id=%s", task.name, task_id)
        return
    if keep(url, record(task, task_id, exc, queue, call)):
        logger.error("dead-lettered: task=%s id=%s queue=%s", task.name, task_id, queue)


def install(app: Celery, topology: Topology) -> None:
    """Remember `app`'s topology and keep `any_failure` routes' failures (exhausted ones come from retries)."""
    from celery.signals import task_failure

    def failed(
        sender: Task | None = None, task_id: str = "", exception: BaseException | None = None, **kw: Any
    ) -> None:
        # a hard time limit is reported by the worker's main process: its args come with the signal only
        if sender is not None and exception is not None and getattr(sender, "app", None) is app:
            on_failure(sender, task_id, exception, exhausted=False, call=(kw.get("args"), kw.get("kwargs")))

    _topologies[app] = topology
    task_failure.connect(failed, weak=False, dispatch_uid=f"celery_topology.deadletter.{id(app)}")
