"""Failed work kept, not lost: one dead-letter store per source queue, listed and replayed on demand.

A task whose retries are used up (`retries.on_retries_exhausted`), or that fails in any way where
its route says `dead_letter: any_failure`, is written to a Redis hash per source queue,
`celery-topology.dead.<queue>`, field = task id, value = a JSON record (task, id, args, kwargs,
exception type and message, attempts, queue, time). `HSETNX` makes the write idempotent: a
redelivered task that fails again, or the two receivers of an exhausted `any_failure` task, keep
one record. The store is the broker's Redis, else the result backend's; with neither (RabbitMQ
with another backend) failures are logged and `doctor` says so.

Why a hash and not a kombu queue `<queue>.dead`: a kombu queue can only be listed by consuming
(`basic_get`, then requeue), which reorders it and, on Redis, parks each message in `unacked`
until the visibility timeout if the lister dies; nor can a queue refuse a second copy of an id.
A hash is listed with one read, written once per id, and no status check sees it as a queue.

Replay re-sends through normal routing under a new task id (the old id's FAILURE result stays
as it was), then deletes the record: a crash in between leaves the record, never loses it. A
short `SET NX` claim keeps two replays of one record from both sending.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import redis

from .model import Topology, is_redis_url

if TYPE_CHECKING:
    from celery import Celery, Task

logger = logging.getLogger("celery_topology.deadletter")
PREFIX = "celery-topology.dead."
CLAIM_PREFIX = "celery-topology.replaying."
CLAIM_SECONDS = 60
Call = tuple[Any, Any]  # (args, kwargs)
_topologies: weakref.WeakKeyDictionary[Celery, Topology] = weakref.WeakKeyDictionary()


def store_url(topology: Topology) -> str | None:
    """Where dead letters live: the broker if it is Redis, else a Redis result backend, else nowhere."""
    for url in (topology.broker.url, topology.broker.result_backend or ""):
        if is_redis_url(url):
            return url
    return None


@cache
def client(url: str) -> redis.Redis:
    """One client per Redis URL for the process (the dead-letter store, queue depths, doctor)."""
    return redis.Redis.from_url(url.replace("redis+socket://", "unix://", 1), socket_timeout=10)


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
    from .retries import POLICY_MARK

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


def entries(url: str, queue: str | None = None) -> Iterator[dict[str, Any]]:
    """Every record (of `queue`, else of every queue), oldest first within each queue."""
    r = client(url)
    keys = [PREFIX + queue] if queue else sorted(k.decode() for k in r.scan_iter(match=PREFIX + "*"))
    for key in keys:
        found = [json.loads(v) for v in r.hvals(key)]
        yield from sorted(found, key=lambda e: (e["time"], e["id"]))


def find(url: str, task_id: str) -> dict[str, Any] | None:
    return next((e for e in entries(url) if e["id"] == task_id), None)


def replay(url: str, app: Celery, entry: dict[str, Any]) -> str | None:
    """Send `entry` again through normal routing; the new task id, or None if another replay holds it."""
    r = client(url)
    claim = CLAIM_PREFIX + entry["id"]
    if not r.set(claim, "1", nx=True, ex=CLAIM_SECONDS):
        return None
    try:
        sent = app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"])
        r.hdel(PREFIX + entry["queue"], entry["id"])
    finally:
        r.delete(claim)
    return str(sent.id)


def purge(url: str, queue: str | None = None) -> int:
    """Delete every record (of `queue`, else of all queues); how many were deleted."""
    r = client(url)
    keys = [PREFIX + queue] if queue else list(r.scan_iter(match=PREFIX + "*"))
    if not keys:
        return 0
    pipe = r.pipeline()  # MULTI: what is counted is what is deleted
    for key in keys:
        pipe.hlen(key)
    pipe.delete(*keys)
    return sum(pipe.execute()[:-1])
