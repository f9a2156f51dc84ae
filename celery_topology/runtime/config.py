"""The topology as plain Celery settings, and `configure(app)` that applies them.

This is the one module (with `retries.py`) that imports Celery and kombu; the validate
and render paths never import it.

What is generated, and why (see the README and celery-facts):
- every queue declared with its own direct exchange and routing key, the default queue
  always; `task_create_missing_queues` off, so a typo fails loudly instead of filling a
  queue nobody consumes;
- one compiled router (`task_routes`) that answers for every task, the default route
  included, so every published task carries a priority; `task_default_priority` is never
  set (it would override the routes);
- priorities 0..9 (9 most urgent) in the file, the broker's native scale on the wire:
  RabbitMQ queues get `x-max-priority`, Redis gets all ten priority steps and inverted values;
- every published task stamped with its publish time (`marks.PUBLISHED_HEADER`, set by the
  router, which runs on every send anyway: no signal receiver on the publish path);
- acks late, reject on worker lost and prefetch 1 as safe defaults (`topology/delivery.py`), set
  by `configure(app)` only where the app's own configuration has not set them.

Precedence in `configure(app)`: what the topology declares wins over the app's configuration;
the safe defaults only fill what the app has not set; the app may still change anything on
`app.conf` afterwards.

`celery_settings(topology)` is the settings part alone: a worker needs `configure(app)`, which also
installs the retry policies and dead-letter capture. `celery_config` is its deprecated name.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from time import time
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu.entity import Exchange, Queue
from kombu.utils.imports import symbol_by_name

from ..topology import environments
from ..topology.brokerkeys import PRIORITY_LEVELS
from ..topology.delivery import SAFE_DEFAULTS
from ..topology.errors import Problem, TopologyError
from ..topology.model import BeatEntry, Topology
from ..topology.routing import Router, shared_router
from ..topology.validate import load, topology_path
from . import beat, liveness, probe, retries
from .beat import beat_settings
from .marks import PUBLISHED_HEADER


def native_priority(topology: Topology, priority: int) -> int:
    """A file priority (9 most urgent) on the broker's scale: the same on RabbitMQ, inverted on Redis."""
    return PRIORITY_LEVELS - 1 - priority if topology.broker.is_redis else priority


def priority(app_or_topology: Celery | Topology, level: int) -> int:
    """The value to pass as `apply_async(priority=...)` for the topology's `level` (0..9, 9 most urgent).

    `app_or_topology` is a Topology or an app `configure` has configured.
    """
    if not 0 <= level < PRIORITY_LEVELS:
        raise ValueError(f"priority {level} is outside 0..9 (9 most urgent)")
    topology = app_or_topology if isinstance(app_or_topology, Topology) else configured_topology(app_or_topology)
    return native_priority(topology, level)


def configured_topology(app: Celery) -> Topology:
    """The topology `configure(app)` applied to `app` (its router carries it)."""
    for router in app.conf.task_routes or ():
        if isinstance(router, CeleryRouter):
            return router.topology
    raise LookupError("this app was not configured by celery_topology.configure(app)")


class CeleryRouter:
    """`task_routes` entry: the compiled router answering in Celery's router signature."""

    def __init__(self, topology: Topology, router: Router | None = None) -> None:
        router = router or shared_router(topology)
        self.topology = topology
        self.match = router.match
        self._answers = {key: (queue, native_priority(topology, p)) for key, (queue, p) in router.destinations.items()}

    def __call__(
        self, name: str, args: Any = None, kwargs: Any = None, options: Any = None, **kw: Any
    ) -> dict[str, Any]:
        queue, priority = self._answers[self.match(name)]
        now = time()
        if options and options.get("headers"):
            # Celery merges the caller's options over the route's: stamp a copy of the caller's headers
            # (a retry or a dead-letter replay passes the old message's) in the send's own options.
            options["headers"] = {**options["headers"], PUBLISHED_HEADER: now}
        return {
            "queue": queue,
            "priority": priority,
            "headers": {PUBLISHED_HEADER: now},
        }  # a new dict: Celery pops from it


def queues(topology: Topology) -> tuple[Queue, ...]:
    """Every declared queue (the default one included): by default on its own direct exchange and routing key."""
    result = []
    for name, spec in topology.queues.items():
        arguments = dict(spec.queue_arguments)
        if not topology.broker.is_redis and spec.max_priority:
            arguments["x-max-priority"] = spec.max_priority
        exchange = Exchange(  # type: ignore[no-untyped-call]
            spec.exchange or name,
            type=spec.exchange_type,
            durable=spec.durable,
            delivery_mode=1 if spec.delivery_mode == "transient" else 2,
        )
        routing_key = name if spec.routing_key is None else spec.routing_key
        queue = Queue(name, exchange, routing_key=routing_key, durable=spec.durable, queue_arguments=arguments or None)  # type: ignore[no-untyped-call]
        result.append(queue)
    return tuple(result)


def transport_options(topology: Topology) -> dict[str, Any]:
    """The file's transport options; on Redis the visibility timeout everywhere it matters, and one priority step per level."""
    passed = dict(topology.broker.transport_options)
    if not topology.broker.is_redis:
        return {"broker_transport_options": passed} if passed else {}
    timeout = {"visibility_timeout": topology.broker.visibility_timeout}
    return {
        "broker_transport_options": {**passed, **timeout, "priority_steps": list(range(PRIORITY_LEVELS))},
        "result_backend_transport_options": dict(timeout),
    }


def broker_settings(topology: Topology) -> dict[str, Any]:
    """broker.* keys other than the URL, under Celery's names (only those the file sets)."""
    broker = topology.broker
    given = {
        "broker_transport": broker.transport,
        "broker_pool_limit": broker.pool_limit,
        "broker_heartbeat": broker.heartbeat,
        "broker_login_method": broker.login_method,
        "result_backend": broker.result_backend,
    }
    return {key: value for key, value in given.items() if value is not None}


def task_settings(topology: Topology) -> dict[str, Any]:
    """defaults.* as Celery's global task settings (routes refine them per task, see `retries.apply_policy`)."""
    d = topology.defaults
    given = {
        "task_acks_late": d.acks_late,
        "task_reject_on_worker_lost": d.reject_on_worker_lost,
        "task_ignore_result": d.ignore_result,
        "task_track_started": d.track_started,
        "task_serializer": d.serializer,
        "result_expires": d.result_expires,
        "task_time_limit": d.time_limit,
        "task_soft_time_limit": d.soft_time_limit,
    }
    return {key: value for key, value in given.items() if value is not None}


def schedule_of(entry: BeatEntry, name: str) -> Any:
    """The Celery schedule of a beat entry: a crontab, an interval, or the object `schedule:` names in the app's code."""
    if entry.cron is not None:
        return crontab.from_string(entry.cron)
    if entry.every is not None:
        return timedelta(seconds=entry.every)
    try:
        return symbol_by_name(entry.schedule)  # type: ignore[no-untyped-call]
    except (ImportError, AttributeError, ValueError) as exc:
        message = f"cannot import {entry.schedule!r} ({type(exc).__name__}: {exc}); check the import path"
        raise TopologyError(
            [Problem("", None, None, f"beat.schedule.{name}.schedule", message, "beat-schedule")]
        ) from None


def beat_schedule(topology: Topology) -> dict[str, Any]:
    """`beat_schedule`: cron or interval entries; queue and priority come from the routes unless the entry names them."""
    if topology.beat is None:
        return {}
    schedule: dict[str, Any] = {}
    for name, entry in topology.beat.schedule.items():
        if not entry.enabled:
            continue
        options: dict[str, Any] = {}
        if entry.queue is not None:
            options["queue"] = entry.queue
        if entry.priority is not None:
            options["priority"] = native_priority(topology, entry.priority)
        if entry.expires is not None:
            options["expires"] = entry.expires
        schedule[name] = {
            "task": entry.task,
            "schedule": schedule_of(entry, name),
            "args": tuple(entry.args),
            "kwargs": dict(entry.kwargs),
            "options": options,
        }
    return {"beat_schedule": schedule, "timezone": topology.beat.timezone}


def celery_settings(topology: Topology, router: Router | None = None) -> dict[str, Any]:
    """The Celery settings `topology` declares (the values `app.conf.update` takes).

    Not everything a worker needs: `configure(app)` also fills the safe defaults the app has not
    set and installs the worker-side retry policies and dead-letter capture.
    """
    default = topology.defaults.queue
    spec = topology.queues.get(default)
    config: dict[str, Any] = {
        "broker_url": topology.broker.url,
        "broker_connection_retry_on_startup": topology.broker.connection_retry_on_startup,
        "task_queues": queues(topology),
        "task_default_queue": default,
        "task_default_exchange": (spec.exchange if spec else None) or default,
        "task_default_exchange_type": spec.exchange_type if spec else "direct",
        "task_default_routing_key": default if spec is None or spec.routing_key is None else spec.routing_key,
        "task_create_missing_queues": topology.defaults.create_missing_queues,
        "task_routes": (CeleryRouter(topology, router),),
        **broker_settings(topology),
        **task_settings(topology),
        **transport_options(topology),
        **beat_schedule(topology),
        **beat_settings(topology),
    }
    return config


def celery_config(topology: Topology, router: Router | None = None) -> dict[str, Any]:
    """Deprecated: `celery_settings` plus the safe defaults; a worker needs `configure(app)`."""
    warnings.warn(
        "celery_config() is not everything a worker needs (retry policies, dead letters); use"
        " configure(app), or celery_settings(topology) for the settings alone",
        DeprecationWarning,
        stacklevel=2,
    )
    return {**SAFE_DEFAULTS, **celery_settings(topology, router)}


def set_by_app(app: Celery, key: str) -> bool:
    """True when the app's own configuration (config_from_object, conf.update...) sets `key`, not Celery's default."""
    conf = app.conf
    conf.get(key)  # a lookup loads a pending configuration (config_from_object), so its layers exist
    return any(key in layer for layer in conf.maps[:-1])


def configure(app: Celery, topology_or_path: Topology | str | os.PathLike[str] | None = None) -> Topology:
    """Apply the topology to `app`: settings, routes, beat, worker-side retry policies and the heartbeat
    that `celery-topology probe` reads. Returns the topology.

    The topology's settings win over the app's; the safe defaults fill only what the app has not set.
    A path (else $CELERY_TOPOLOGY_FILE, else ./topology.yaml) is read with $CELERY_TOPOLOGY_ENV's environment merged.
    """
    if not isinstance(topology_or_path, Topology):
        topology_or_path = load(topology_path(topology_or_path), env=environments.selected())
    topology = topology_or_path
    router = shared_router(topology)
    unset = {key: value for key, value in SAFE_DEFAULTS.items() if not set_by_app(app, key)}
    app.conf.update({**unset, **celery_settings(topology, router)})
    retries.install(app, router)
    beat.install(app, topology)
    probe.install(app, topology)
    liveness.install(app, topology)
    return topology
