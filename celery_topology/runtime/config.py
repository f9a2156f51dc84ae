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
- acks late, reject on worker lost and prefetch 1 as safe defaults: set anything on
  `app.conf` after `configure(app)` to override them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.schedules import crontab
from kombu.entity import Exchange, Queue

from ..topology import environments
from ..topology.model import Topology
from ..topology.routing import Router
from ..topology.validate import load, topology_path
from . import beat, retries
from .beat import beat_settings

PRIORITY_LEVELS = 10  # 0..9 in the file
SAFE_DEFAULTS: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
}


def native_priority(topology: Topology, priority: int) -> int:
    """A file priority (9 most urgent) on the broker's scale: the same on RabbitMQ, inverted on Redis."""
    return PRIORITY_LEVELS - 1 - priority if topology.broker.is_redis else priority


class CeleryRouter:
    """`task_routes` entry: the compiled router answering in Celery's router signature."""

    def __init__(self, topology: Topology, router: Router | None = None) -> None:
        router = router or Router(topology)
        self.match = router.match
        self._answers = {key: (queue, native_priority(topology, p)) for key, (queue, p) in router.destinations.items()}

    def __call__(
        self, name: str, args: Any = None, kwargs: Any = None, options: Any = None, **kw: Any
    ) -> dict[str, Any]:
        queue, priority = self._answers[self.match(name)]
        return {"queue": queue, "priority": priority}  # a new dict each time: Celery pops from it


def queues(topology: Topology) -> tuple[Queue, ...]:
    """Every declared queue (the default one included) on its own direct exchange and routing key."""
    result = []
    for name, spec in topology.queues.items():
        arguments = {}
        if not topology.broker.is_redis and spec.max_priority:
            arguments["x-max-priority"] = spec.max_priority
        exchange = Exchange(name, type="direct")  # type: ignore[no-untyped-call]
        result.append(Queue(name, exchange, routing_key=name, queue_arguments=arguments or None))  # type: ignore[no-untyped-call]
    return tuple(result)


def transport_options(topology: Topology) -> dict[str, Any]:
    """Redis only: the visibility timeout everywhere it matters, and one priority step per level."""
    if not topology.broker.is_redis:
        return {}
    timeout = {"visibility_timeout": topology.broker.visibility_timeout}
    return {
        "broker_transport_options": {**timeout, "priority_steps": list(range(PRIORITY_LEVELS))},
        "result_backend_transport_options": dict(timeout),
    }


def beat_schedule(topology: Topology) -> dict[str, Any]:
    """`beat_schedule`: cron or interval entries; queue and priority come from the routes unless the entry names them."""
    if topology.beat is None:
        return {}
    schedule: dict[str, Any] = {}
    for name, entry in topology.beat.schedule.items():
        options: dict[str, Any] = {}
        if entry.queue is not None:
            options["queue"] = entry.queue
        if entry.priority is not None:
            options["priority"] = native_priority(topology, entry.priority)
        if entry.expires is not None:
            options["expires"] = entry.expires
        when = crontab.from_string(entry.cron) if entry.cron else timedelta(seconds=entry.every or 0)
        schedule[name] = {
            "task": entry.task,
            "schedule": when,
            "args": tuple(entry.args),
            "kwargs": dict(entry.kwargs),
            "options": options,
        }
    return {"beat_schedule": schedule, "timezone": topology.beat.timezone}


def celery_config(topology: Topology, router: Router | None = None) -> dict[str, Any]:
    """Plain Celery settings for `topology` (the values `app.conf.update` takes)."""
    default = topology.defaults.queue
    config: dict[str, Any] = {
        "broker_url": topology.broker.url,
        "broker_connection_retry_on_startup": True,
        "task_queues": queues(topology),
        "task_default_queue": default,
        "task_default_exchange": default,
        "task_default_exchange_type": "direct",
        "task_default_routing_key": default,
        "task_create_missing_queues": False,
        "task_routes": (CeleryRouter(topology, router),),
        **SAFE_DEFAULTS,
        **transport_options(topology),
        **beat_schedule(topology),
        **beat_settings(topology),
    }
    if topology.broker.result_backend is not None:
        config["result_backend"] = topology.broker.result_backend
    if topology.defaults.time_limit is not None:
        config["task_time_limit"] = topology.defaults.time_limit
    if topology.defaults.soft_time_limit is not None:
        config["task_soft_time_limit"] = topology.defaults.soft_time_limit
    return config


def configure(app: Celery, topology_or_path: Topology | str | os.PathLike[str] | None = None) -> Topology:
    """Apply the topology to `app`: settings, routes, beat, and worker-side retry policies. Returns the topology.

    A path (else $CELERY_TOPOLOGY_FILE, else ./topology.yaml) is read with $CELERY_TOPOLOGY_ENV's environment merged.
    """
    if not isinstance(topology_or_path, Topology):
        topology_or_path = load(topology_path(topology_or_path), env=environments.selected())
    topology = topology_or_path
    router = Router(topology)
    app.conf.update(celery_config(topology, router))
    retries.install(app, router)
    beat.install(app, topology)
    return topology
