"""Import an app as Celery would and read its configuration into a draft topology.

This is the one module that imports the application's code. Broker and backend passwords are
never read into the draft: the URL is written as `${CELERY_BROKER_URL:-<url without password>}`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery
from celery.app.utils import find_app
from kombu.entity import Queue

from ..runtime.config import CeleryRouter, set_by_app
from ..topology import brokers
from ..topology.brokerkeys import PRIORITY_LEVELS
from ..topology.delivery import SAFE_DEFAULTS
from ..topology.grammar import is_redis_url
from ..topology.model import SCHEDULERS
from .beat import beat_entry
from .draft import Draft, Unreadable, without_password, without_secrets
from .options import from_settings, read_annotations
from .routes import read_routes

LIMITS = {"task_time_limit": "time_limit", "task_soft_time_limit": "soft_time_limit"}
NAMED_SCHEDULERS = {path.replace(":", "."): name for name, path in SCHEDULERS.items()}
WORKER_SETTINGS = {  # what a worker reads from the app's configuration -> the pool key that puts it on its command line
    "worker_concurrency": "concurrency",
    "worker_prefetch_multiplier": "prefetch_multiplier",
    "worker_max_tasks_per_child": "max_tasks_per_child",
    "worker_max_memory_per_child": "max_memory_per_child",
    "worker_disable_rate_limits": "disable_rate_limits",
}
KEPT_IN_APP = ("accept_content", "result_serializer", "result_accept_content")


def load_app(spec: str) -> Celery:
    """`package.module:app`, or `package.module` holding `app` or `celery`, imported from the working directory."""
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    hint = "name it as package.module:app, from the directory that holds the package (or with PYTHONPATH set)"
    try:
        app = find_app(spec)
    except (ImportError, AttributeError) as exc:  # what `celery -A` reports as "Unable to load celery application"
        # find_app retries a missing attribute as a module named `spec`: the attribute is the real reason
        reason = exc.__context__ if isinstance(exc.__context__, AttributeError) else exc
        raise Unreadable(f"cannot load the Celery app {spec!r}: {reason}; {hint}") from exc
    if not isinstance(app, Celery):
        raise Unreadable(f"{spec!r} is not a Celery app ({type(app).__name__}); {hint}")
    app.loader.import_default_modules()
    app.finalize(auto=True)
    return app


def priority_reader(redis: bool) -> Callable[[int], int]:
    """A native priority (as the app passes it) on the topology's scale: 0..9, 9 most urgent."""

    def file_priority(native: int) -> int:
        clamped = max(0, min(PRIORITY_LEVELS - 1, int(native)))
        return PRIORITY_LEVELS - 1 - clamped if redis else clamped

    return file_priority


def _url(setting: str, value: Any, variable: str, draft: Draft, path: tuple[str, ...]) -> str | None:
    if not isinstance(value, str) or "://" not in value:
        draft.refuse(
            f"{setting}: {type(value).__name__ if not isinstance(value, str) else value!r} is not a URL; set {'.'.join(path)} by hand"
        )
        return None
    plain, had_password = without_password(value)
    if had_password:
        draft.note(
            path,
            f"the app's URL holds a password: set {variable} (in deploy.environment_file); the default here has none",
        )
    return f"${{{variable}:-{plain}}}"


def read_broker(app: Celery, draft: Draft) -> dict[str, Any]:
    conf = app.conf
    broker: dict[str, Any] = {}
    url = conf.broker_url or "amqp://guest@localhost:5672//"
    scheme = brokers.scheme(url) if isinstance(url, str) else ""
    if scheme not in brokers.TRANSPORTS:
        draft.note(("broker", "url"), f"transport {scheme!r}: check it is one the topology format supports")
    written = _url("broker_url", url, "CELERY_BROKER_URL", draft, ("broker", "url"))
    broker["url"] = written or "${CELERY_BROKER_URL}"
    if conf.result_backend:
        backend = _url(
            "result_backend", conf.result_backend, "CELERY_RESULT_BACKEND", draft, ("broker", "result_backend")
        )
        if backend is not None:
            broker["result_backend"] = backend
    options = dict(conf.broker_transport_options or {})
    if "visibility_timeout" in options:
        broker["visibility_timeout"] = int(options.pop("visibility_timeout"))
    if options.pop("priority_steps", None) is not None and not _own(app):
        draft.note(("broker",), "the app set priority_steps; celery-topology uses all ten steps on Redis")
    if options:
        broker["transport_options"] = options
    return broker


def _own(app: Celery) -> CeleryRouter | None:
    """celery-topology's own router, when `configure(app)` already runs in this app."""
    routes = app.conf.task_routes
    return (
        next((r for r in routes or () if isinstance(r, CeleryRouter)), None)
        if isinstance(routes, list | tuple)
        else None
    )


def read_queues(app: Celery, redis: bool, draft: Draft) -> dict[str, Any]:
    """Every queue the app declares, and the default one; a queue's exchange only where it is not its own direct one."""
    conf = app.conf
    declared = list(app.amqp.queues.values())  # as Celery binds them: the default exchange where none is given
    if conf.task_default_queue not in app.amqp.queues:
        declared.insert(0, Queue(conf.task_default_queue))  # type: ignore[no-untyped-call]
    queues: dict[str, Any] = {}
    for queue in declared:
        spec: dict[str, Any] = {}
        exchange = queue.exchange
        exchange_name = exchange.name if exchange is not None and exchange.name else queue.name
        if exchange_name != queue.name:
            spec["exchange"] = exchange_name
        if exchange is not None and exchange.type != "direct":
            spec["exchange_type"] = exchange.type
        if queue.routing_key and queue.routing_key != queue.name:
            spec["routing_key"] = queue.routing_key
        mode = getattr(exchange, "delivery_mode", None) or conf.task_default_delivery_mode  # as Celery sends
        if mode in (1, "transient"):
            spec["delivery_mode"] = "transient"
        arguments = dict(queue.queue_arguments or {})
        maximum = arguments.pop("x-max-priority", conf.task_queue_max_priority)
        if not redis:
            spec["max_priority"] = int(maximum or 0)
        if arguments:
            spec["queue_arguments"] = arguments
        queues[queue.name] = spec
    if not redis:
        draft.note(
            ("queues",), "max_priority is what the broker already has: changing it needs the queue deleted first"
        )
    return queues


def read_defaults(app: Celery, redis: bool, draft: Draft) -> dict[str, Any]:
    conf = app.conf
    defaults: dict[str, Any] = {"queue": conf.task_default_queue}
    own = _own(app)
    if own is not None:
        declared = own.topology.defaults
        defaults["priority"] = declared.priority
        if declared.retry is not None:
            defaults["retry"] = declared.retry.model_dump(exclude_none=True)
    elif conf.task_default_priority is not None:
        defaults["priority"] = priority_reader(redis)(conf.task_default_priority)
    else:
        defaults["priority"] = 9 if redis else 0
        broker = "Redis treats it as the most urgent (9)" if redis else "RabbitMQ treats it as the least urgent (0)"
        draft.note(("defaults", "priority"), f"the app sends tasks without a priority; {broker}. 5 is the usual middle")
    for setting, key in LIMITS.items():
        if conf[setting]:
            defaults[key] = int(conf[setting])
    if not (redis or is_redis_url(str(conf.result_backend or ""))):
        defaults["dead_letter"] = "off"
        draft.note(
            ("defaults", "dead_letter"), "the app keeps no dead letters: give a Redis result_backend to keep them"
        )
    defaults.update(from_settings(app, draft))
    for setting, safe in SAFE_DEFAULTS.items():
        if setting.startswith("task_") and conf[setting] != safe and not set_by_app(app, setting):
            draft.note(
                ("defaults",),
                f"the app runs Celery's {setting}={conf[setting]}; celery-topology sets {safe} where the app does not",
            )
    if set_by_app(app, "task_create_missing_queues") and conf.task_create_missing_queues:
        draft.note(
            ("defaults",),
            "the app creates missing queues; every queue its routes and beat name is declared here, and a typo"
            " now fails loudly: set create_missing_queues: true if it makes queues at run time",
        )
    kept = [setting for setting in KEPT_IN_APP if set_by_app(app, setting)]
    if kept:
        draft.note(("defaults",), f"the app's {', '.join(kept)} have no topology key: keep them in its configuration")
    return defaults


def read_beat(app: Celery, redis: bool, draft: Draft) -> dict[str, Any] | None:
    entries = dict(app.conf.beat_schedule or {})
    if not entries:
        return None
    schedule = {}
    for name, entry in entries.items():
        written = beat_entry(name, entry, priority_reader(redis), draft)
        if written is not None:
            schedule[name] = written
    beat: dict[str, Any] = {"timezone": str(app.conf.timezone or "UTC")}
    scheduler = app.conf.beat_scheduler
    if set_by_app(app, "beat_scheduler"):
        if isinstance(scheduler, str):
            beat["scheduler"] = NAMED_SCHEDULERS.get(scheduler.replace(":", "."), scheduler)
        else:
            draft.refuse(f"beat_scheduler {getattr(scheduler, '__qualname__', scheduler)!r}: name it as an import path")
    if set_by_app(app, "beat_max_loop_interval") and app.conf.beat_max_loop_interval:
        beat["max_loop_interval"] = int(app.conf.beat_max_loop_interval)
    return {**beat, "schedule": schedule}


def read_app(app: Celery, spec: str) -> Draft:
    """The draft topology of `app` (imported as `spec`); pools are added by the caller."""
    draft = Draft()
    broker = read_broker(app, draft)
    redis = is_redis_url(app.conf.broker_url or "amqp://")
    data: dict[str, Any] = {"version": 1, "app": spec, "broker": broker}
    data["defaults"] = read_defaults(app, redis, draft)
    data["queues"] = read_queues(app, redis, draft)
    routes = read_routes(app, priority_reader(redis), draft)
    for body in routes.values():
        queue = body if isinstance(body, str) else body.get("queue")
        if queue is not None and queue not in data["queues"]:
            data["queues"][queue] = {} if redis else {"max_priority": 0}
    data["routes"] = read_annotations(app, routes, data["defaults"], draft)
    beat = read_beat(app, redis, draft)
    for entry in (beat or {}).get("schedule", {}).values():
        if entry.get("queue") and entry["queue"] not in data["queues"]:
            data["queues"][entry["queue"]] = {} if redis else {"max_priority": 0}
    if beat is not None:
        data["beat"] = beat
    draft.data = without_secrets(data, draft)
    settings = {setting: key for setting, key in WORKER_SETTINGS.items() if set_by_app(app, setting)}
    consumed = list(app.amqp.queues)  # what `celery worker` without -Q consumes
    draft.pool_defaults = {"queues": consumed, **{k: app.conf[s] for s, k in settings.items() if app.conf[s]}}
    return draft
