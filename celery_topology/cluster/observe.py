"""Talking to a running cluster: who is online, what they consume and run, how deep each queue is.

Celery and kombu are imported inside the functions that need them, so importing this
module (the CLI does) stays fast. One look (`observe`) asks the broker:
- `inspect().ping()` with the timeout, to learn who is online (None when nobody answers);
- then active_queues / active / reserved / scheduled / stats addressed to exactly those
  workers with `limit=len(workers)`, so each returns as soon as they all replied;
- queue depth: on Redis the sum of LLEN over the queue's priority sub-queues, key names
  computed the way kombu's redis transport does (`topology/brokerkeys.py`); on RabbitMQ a passive
  `queue_declare`, whose message count is the depth (None when the queue does not exist).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import redis

from ..runtime.store import client
from ..topology import brokers
from ..topology.brokerkeys import redis_queue_keys
from ..topology.explain import mask_url
from ..topology.model import Topology
from .assess import Observation, WorkerView
from .beatlock import beat_status

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


def redis_depths(url: str, queues: list[str], options: dict[str, Any]) -> dict[str, int | None]:
    """Messages waiting per queue: the sum over its priority sub-queues, read in one pipeline."""
    pipe = client(url).pipeline(transaction=False)
    for queue in queues:
        for key in redis_queue_keys(queue, options):
            pipe.llen(key)
    sizes = iter(pipe.execute())
    steps = len(redis_queue_keys("", options))
    return {queue: sum(next(sizes) for _ in range(steps)) for queue in queues}


def amqp_depths(app: Celery, queues: list[str]) -> dict[str, int | None]:
    """Messages ready per queue by passive declare; None for a queue the broker does not have (NOT_FOUND)."""
    depths: dict[str, int | None] = {}
    with app.connection_for_read() as conn:
        for queue in queues:
            channel = conn.channel()
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except conn.channel_errors:  # NOT_FOUND closes the channel
                depths[queue] = None
            finally:
                channel.close()
    return depths


def queue_depths(topology: Topology, app: Celery, queues: list[str]) -> dict[str, int | None]:
    if topology.broker.is_redis:
        return redis_depths(topology.broker.url, queues, dict(app.conf.broker_transport_options or {}))
    found = brokers.transport(topology.broker.url)
    if found is not None and found.depth:
        return amqp_depths(app, queues)
    return dict.fromkeys(queues)  # a transport whose depth celery-topology cannot read (see `unsupported`)


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


def observe(topology: Topology, timeout: float = 1.0, app: Celery | None = None) -> Observation:
    """One look at the cluster; a broker that cannot be reached is reported, not raised."""
    app = app or make_app(topology)
    broker = mask_url(topology.broker.url)
    cannot = unsupported(topology)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        online = {} if "workers" in cannot else workers(app, timeout)
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
