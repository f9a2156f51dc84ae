"""Failed work kept, not lost: the worker's side of the dead-letter store.

A task whose retries are used up (`retries.on_retries_exhausted`), whose worker was lost under it
too often (`losses.py`), or that fails in any way where its route says `dead_letter: any_failure`,
is written to the store (`store.py`) as a JSON record: task, id, args, kwargs, exception type and
message, attempts, queue, priority and headers of the message, time. `SET NX` makes the write
idempotent: a redelivered task that fails again, or the two receivers of an exhausted
`any_failure` task, keep one record. The route's `dead_letter.keep` is the record's expiry; with
`keep_args: false` the record holds neither the arguments nor the exception's message (which often
quotes them), so once the task is done they are nowhere in the broker. With no Redis store
(RabbitMQ with another backend) failures are logged and `doctor` says so.

Why not a kombu queue `<queue>.dead`: a kombu queue can only be listed by consuming
(`basic_get`, then requeue), which reorders it and, on Redis, parks each message in `unacked`
until the visibility timeout if the lister dies; nor can a queue refuse a second copy of an id.
Listing, replay and purge are `cluster/deadletters.py`.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..topology.failures import DeadLetterPolicy
from ..topology.model import Topology
from .marks import POLICY_MARK, PUBLISHED_HEADER
from .store import KEEP_DEFAULT, put, store_url

if TYPE_CHECKING:
    from celery import Celery, Task

logger = logging.getLogger("celery_topology.deadletter")
Call = tuple[Any, Any]  # (args, kwargs)
_topologies: weakref.WeakKeyDictionary[Celery, Topology] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Policy:
    """A route's `dead_letter`, its keys filled from `defaults.dead_letter`, then the built-in defaults."""

    when: str = "exhausted"
    keep: int = KEEP_DEFAULT
    keep_args: bool = True


def policy(topology: Topology, route_key: str | None) -> Policy:
    route = topology.routes.get(route_key) if route_key is not None else None
    layers = [route.dead_letter if route is not None and route.dead_letter else DeadLetterPolicy()]
    layers.append(topology.defaults.dead_letter)
    built_in = Policy()
    picked = {
        key: next((getattr(layer, key) for layer in layers if getattr(layer, key) is not None), getattr(built_in, key))
        for key in ("when", "keep", "keep_args")
    }
    return Policy(**picked)


def record(
    task: Task, task_id: str, exc: BaseException, queue: str, call: Call | None = None, keep_args: bool = True
) -> dict[str, Any]:
    """The record of a failed try; `call` (args, kwargs) where `task.request` is not the failed one's."""
    request = task.request
    args, kwargs = call or (request.args, request.kwargs)
    kind = type(exc)
    return {
        "id": task_id,
        "task": task.name,
        "args": list(args or ()) if keep_args else None,
        "kwargs": dict(kwargs or {}) if keep_args else None,
        "exception": kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}",
        "message": str(exc) if keep_args else None,  # messages often quote the arguments
        "attempts": (request.retries or 0) + 1,
        "queue": queue,
        "priority": (request.delivery_info or {}).get("priority"),
        "headers": {
            k: v for k, v in (request.headers or {}).items() if k != PUBLISHED_HEADER
        },  # a replay gets a new stamp
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def keep(url: str, entry: dict[str, Any], seconds: int = KEEP_DEFAULT) -> bool:
    """Write `entry` once per task id, kept for `seconds`; True if it was new."""
    return put(url, entry, seconds)


def on_failure(task: Task, task_id: str, exc: BaseException, exhausted: bool, call: Call | None = None) -> None:
    """Keep the failed task if its route asks: always when exhausted (unless `off`), any failure if `any_failure`."""
    topology = _topologies.get(task.app)
    found = getattr(task, POLICY_MARK, None)
    if topology is None or found is None:
        return
    wanted = policy(topology, found.pattern)
    if wanted.when == "off" or (wanted.when == "exhausted" and not exhausted):
        return
    url = store_url(topology)
    delivered = str((task.request.delivery_info or {}).get("routing_key"))
    queue = delivered if delivered in topology.queues else found.queue
    if url is None:
        logger.error("dead letter not kept (no Redis store): task=%s id=%s", task.name, task_id)
        return
    if keep(url, record(task, task_id, exc, queue, call, wanted.keep_args), wanted.keep):
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
