"""Talking to a running cluster: who is online, what they consume and run, how deep each queue is.

Celery and kombu are imported inside the functions that need them, so importing this
module (the CLI does) stays fast. One look (`observe`) asks the broker:
- `inspect().ping()` with the timeout, to learn who is online (None when nobody answers);
- then active_queues / active / reserved / scheduled / stats addressed to exactly those
  workers with `limit=len(workers)`, so each returns as soon as they all replied;
- queue depth (`queues.py`): on Redis the sum over the queue's priority lists, key names computed
  the way kombu does (`topology/brokerkeys.py`); on RabbitMQ a passive `queue_declare`'s message
  count (None when the queue does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import redis

from ..topology import brokers
from ..topology.explain import mask_url
from ..topology.model import Topology
from .assess import Observation, WorkerView
from .beatlock import beat_status
from .queues import queue_depths

if TYPE_CHECKING:
    from celery import Celery

STATS_KEYS = ("pid", "uptime", "prefetch_count", "total")  # never the broker block: it describes the connection


def make_app(topology: Topology) -> Celery:
    """A private Celery app configured from the topology (not the current app, no task modules)."""
    from celery import Celery

    from ..runtime.config import celery_settings

    app = Celery("celery-topology", set_as_current=False)
    app.conf.update(celery_settings(topology))
    return app


def unsupported(topology: Topology) -> tuple[str, ...]:
    """What this broker's transport cannot tell (`queue depth`, `workers`): reported, never failed on."""
    found = brokers.transport(topology.broker.url)
    if found is None:  # broker.transport names a class of the app's own: nothing known about it
        return ("queue depth", "workers")
    return tuple(what for what, can in (("queue depth", found.depth), ("workers", found.inspect)) if not can)


def _count(reply: dict[str, Any] | None, worker: str) -> int:
    return len((reply or {}).get(worker) or [])


def workers(app: Celery, timeout: float) -> dict[str, WorkerView]:
    """Every worker that answers a ping within `timeout`, with its queues, tasks and stats."""
    pong = app.control.inspect(timeout=timeout).ping() or {}
    if not pong:
        return {}
    names = sorted(pong)
    ask = app.control.inspect(destination=names, timeout=timeout, limit=len(names))
    queues, active, reserved = ask.active_queues() or {}, ask.active(), ask.reserved()
    scheduled, stats = ask.scheduled(), ask.stats() or {}
    found = {}
    for name in names:
        raw = stats.get(name) or {}
        picked = {key: raw[key] for key in STATS_KEYS if key in raw}
        picked["concurrency"] = (raw.get("pool") or {}).get("max-concurrency")
        found[name] = WorkerView(
            name=name,
            queues=tuple(sorted(q["name"] for q in queues.get(name) or [])),
            active=_count(active, name),
            reserved=_count(reserved, name),
            scheduled=_count(scheduled, name),
            stats=picked,
            topology=(raw.get("topology") or {}).get("checksum"),  # runtime/probe.py's bootstep
        )
    return found


def observe(
    topology: Topology,
    timeout: float = 1.0,
    app: Celery | None = None,
    ask: Callable[[], dict[str, WorkerView]] | None = None,
) -> Observation:
    """One look at the cluster; a broker that cannot be reached is reported, not raised.

    `ask` answers who is online instead of a broadcast of our own (`looker.Looker` caches one).
    """
    app = app or make_app(topology)
    broker = mask_url(topology.broker.url)
    cannot = unsupported(topology)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        online = {} if "workers" in cannot else ask() if ask is not None else workers(app, timeout)
        depths = queue_depths(topology, app, sorted(topology.queues))
        beat = beat_status(topology)
    except broker_errors(app) as exc:
        return Observation(broker=broker, workers={}, depths={}, error=unreachable(exc, topology.broker.url))
    return Observation(broker=broker, workers=online, depths=depths, beat=beat, unsupported=cannot)


def broker_errors(app: Celery) -> tuple[type[BaseException], ...]:
    """What talking to the broker or the Redis store can raise: kombu's and Redis's errors, and the
    transport's own connection and channel errors (py-amqp's AccessRefused, NotAllowed are not kombu's)."""
    from kombu.exceptions import KombuError

    known = (OSError, ImportError, redis.exceptions.RedisError, KombuError)  # ImportError: a transport's client library
    try:
        with app.connection_for_write() as conn:  # no network: the transport class names its errors
            return (*known, *conn.connection_errors, *conn.channel_errors)
    except ImportError:  # the transport itself cannot be loaded (sqs:// without boto3): the look reports it
        return known


def unreachable(exc: BaseException, url: str) -> str:
    """Why the broker cannot be used, for a person: a refused login, a missing virtual host, else the error."""
    causes = [exc]
    while causes[-1].__cause__ is not None and len(causes) < 10:  # kombu wraps the client's error
        causes.append(causes[-1].__cause__)
    code = next((getattr(c, "reply_code", None) for c in causes if hasattr(c, "reply_code")), None)
    if code == 403 or any(isinstance(c, redis.exceptions.AuthenticationError) for c in causes):
        return "broker unreachable: login refused; check the user and password of the broker URL (environment file or .env)"
    if code == 530:
        vhost = unquote(urlsplit(url).path[1:]) or "/"
        return (
            f"broker unreachable: virtual host {vhost!r} does not exist or the user may not use it;"
            " create it (rabbitmqctl add_vhost) and grant the user access (rabbitmqctl set_permissions)"
        )
    return f"broker unreachable: {safe_error(exc, url)}"


def safe_error(exc: BaseException, url: str) -> str:
    """The error text with the broker password masked, should it appear."""
    text = f"{type(exc).__name__}: {exc}"
    password = urlsplit(url).password
    return text.replace(url, mask_url(url)).replace(password, "***") if password else text
