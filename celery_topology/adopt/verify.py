"""The round-trip proof: a fresh app configured from the written file against the original app.

For every registered task: the queue (name, exchange, routing key, arguments) and priority a send
carries, and the options the worker runs it with. For every beat entry: the next 20 run times from a
fixed instant, the args, kwargs and options. The fresh app registers the same task names with what
the original task's own code sets (decorator options, base classes), so code-set values count
the same on both sides, as they would once the app's code calls `configure(app)`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.app.annotations import resolve_all
from celery.schedules import crontab, schedule
from kombu.entity import DELIVERY_MODES, Queue

from ..runtime.config import configure, set_by_app
from ..runtime.retries import apply_policy
from ..runtime.taskoptions import set_by_code
from ..topology.credentials import is_secret
from ..topology.delivery import SAFE_DEFAULTS
from ..topology.model import Topology
from ..topology.routing import Router

START = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)  # the fixed instant run times are counted from
RUNS = 20
OPTIONS: tuple[str, ...] = ("time_limit", "soft_time_limit", "max_retries", "default_retry_delay", "rate_limit")
OPTIONS += ("ignore_result", "track_started", "serializer", "expires")
SAFE_OPTIONS = {"acks_late": "task_acks_late", "reject_on_worker_lost": "task_reject_on_worker_lost"}


def delivery(app: Celery, name: str) -> dict[str, Any]:
    """Where a plain send of `name` goes, and with which priority, as Celery computes it."""
    task = app.tasks[name]
    options = app.amqp.router.route(dict(task._get_exec_options()), name, (), {})
    queue = options["queue"]
    priority = options.get("priority", app.conf.task_default_priority)
    return {
        "queue": queue.name,
        "exchange": options.get("exchange") or (queue.exchange.name if queue.exchange else ""),
        "exchange_type": queue.exchange.type if queue.exchange else "",
        "routing_key": options.get("routing_key") or queue.routing_key,
        "queue_arguments": dict(queue.queue_arguments or {}),
        "delivery_mode": _delivery_mode(app, options, queue),
        "priority": 0 if priority is None else priority,  # no priority: what both brokers read as 0
    }


def _delivery_mode(app: Celery, options: dict[str, Any], queue: Queue) -> Any:
    """The delivery mode a send carries, as Celery's `send_task_message` picks it (1 transient, 2 persistent)."""
    mode = options.get("delivery_mode") or getattr(queue.exchange, "delivery_mode", None)
    mode = mode or app.conf.task_default_delivery_mode
    return DELIVERY_MODES.get(mode, mode)


def _retries(task: Task) -> dict[str, Any]:
    autoretry = tuple(sorted(f"{e.__module__}.{e.__qualname__}" for e in getattr(task, "autoretry_for", ()) or ()))
    found: dict[str, Any] = {"autoretry_for": autoretry}
    if autoretry and getattr(task, "retry_backoff", False):
        found |= {k: getattr(task, k, None) for k in ("retry_backoff", "retry_backoff_max", "retry_jitter")}
    return found


def task_options(task: Task) -> dict[str, Any]:
    return {**{key: getattr(task, key, None) for key in OPTIONS}, **_retries(task)}


def _annotated(task: Task) -> dict[str, Any]:
    """What the app's `task_annotations` set on `task`, as Celery applies them (its exact name, then '*')."""
    annotated: dict[str, Any] = {}
    for layer in resolve_all(task.app.annotations, task):
        annotated.update(layer)
    return annotated


def _celery_default(task: Task, key: str) -> bool:
    """True when `task`'s `key` is Celery's own default: neither its code, the app's settings nor an annotation set it."""
    setting = SAFE_OPTIONS[key]
    return not (set_by_code(task, key) or set_by_app(task.app, setting) or key in _annotated(task))


def _code_options(task: Task) -> dict[str, Any]:
    """What the task's own code sets (not the app's annotations or settings)."""
    annotated = _annotated(task)
    keys = (*OPTIONS, *SAFE_OPTIONS, "autoretry_for", "retry_backoff", "retry_backoff_max", "retry_jitter")
    keys += ("queue", "priority", "exchange", "routing_key")
    return {
        key: getattr(task, key)
        for key in keys
        if set_by_code(task, key) and not (key in annotated and annotated[key] == getattr(task, key))
    }


def fresh_app(original: Celery, topology: Topology) -> Celery:
    """A new app configured from `topology` with the original's task names and code-set options.

    Tasks made with `@app.task` are shared: the fresh app gets them, code and all, when it is
    finalized; the others (`shared=False`, class-based) are registered again by name.
    """
    fresh = Celery(original.main, set_as_current=False)
    configure(fresh, topology)
    fresh.finalize(auto=True)
    router = Router(topology)
    for name, task in original.tasks.items():
        if name not in fresh.tasks:
            fresh.task(name=name, shared=False, lazy=False, **_code_options(task))(_noop_named(name))
            apply_policy(fresh.tasks[name], router)
    return fresh


def _noop_named(name: str) -> Any:
    def run(*args: Any, **kwargs: Any) -> None:
        """The body of a task registered again by name: only names and options are compared."""

    run.__qualname__ = f"registered_again[{name}]"
    return run


def _runs(when: Any, app: Celery) -> list[str]:
    """The next RUNS times `when` fires after START (an interval, a crontab in the app's time zone, or the object itself)."""
    if isinstance(when, schedule) and type(when) is schedule:
        when = when.run_every
    if isinstance(when, int | float):
        when = timedelta(seconds=when)
    if isinstance(when, timedelta):
        return [str(START + when * i) for i in range(1, RUNS + 1)]
    if not isinstance(when, crontab):
        return [f"{type(when).__module__}.{type(when).__qualname__}:{id(when)}"]
    when.app = app
    times, last = [], START
    for _ in range(RUNS):
        last_run, delta, _now = when.remaining_delta(last)
        last = (last_run + delta).replace(second=0, microsecond=0)
        times.append(last.isoformat())
        last += timedelta(seconds=1)
    return times


def _entry(entry: dict[str, Any], app: Celery) -> dict[str, Any]:
    options = {k: v for k, v in dict(entry.get("options") or {}).items() if v is not None}
    return {
        "task": entry["task"],
        "runs": _runs(entry["schedule"], app),
        "args": list(entry.get("args") or ()),
        "kwargs": dict(entry.get("kwargs") or {}),
        "options": options,
    }


def _diff(what: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    found = []
    for key in before:
        theirs: Any = before.get(key)
        ours: Any = after.get(key)
        if theirs == ours:
            continue
        if key == "runs":
            at = next(i for i, (a, b) in enumerate(zip(theirs, ours, strict=True)) if a != b)
            theirs, ours, key = theirs[at], ours[at], f"run {at + 1} from {START.isoformat()}"
        found.append(f"{what}: {key}: app {_masked(theirs)!r}, topology {_masked(ours)!r}")
    return found


def _masked(value: Any) -> Any:
    """`value` as printed: what stands under a key named like a secret (kwargs `api_key`) shown as ***."""
    if isinstance(value, dict):
        return {k: "***" if is_secret(k) else _masked(v) for k, v in value.items()}
    return value


def _safe_options(before: Task, after: Task, changed: list[str]) -> list[str]:
    """Differences in acks_late and reject_on_worker_lost, except the safe defaults turned on where Celery's own held."""
    found = []
    for key, setting in SAFE_OPTIONS.items():
        theirs, ours = bool(getattr(before, key)), bool(getattr(after, key))
        if theirs != ours and ours == SAFE_DEFAULTS[setting] and _celery_default(before, key):
            changed.append(key)
        elif theirs != ours:
            found.append(f"task {before.name}: {key}: app {theirs!r}, topology {ours!r}")
    return found


def compare(original: Celery, topology: Topology) -> tuple[list[str], list[str]]:
    """(differences, safe defaults applied on purpose) between `original` and an app configured from `topology`."""
    fresh = fresh_app(original, topology)
    differences: list[str] = []
    changed: list[str] = []
    for name in sorted(original.tasks):
        before, after = original.tasks[name], fresh.tasks.get(name)
        if after is None:
            differences.append(f"task {name}: not registered in the fresh app")
            continue
        differences += _diff(f"task {name}", delivery(original, name), delivery(fresh, name))
        if not name.startswith("celery."):
            differences += _diff(f"task {name}", task_options(before), task_options(after))
            differences += _safe_options(before, after, changed)
    theirs, ours = dict(original.conf.beat_schedule or {}), dict(fresh.conf.beat_schedule or {})
    for name, entry in theirs.items():
        if name not in ours:
            differences.append(f"beat entry {name!r}: missing from the topology")
            continue
        differences += _diff(f"beat entry {name!r}", _entry(entry, original), _entry(ours[name], fresh))
    differences += [f"beat entry {name!r}: not in the app" for name in ours if name not in theirs]
    summary = [f"{key} turned on for {changed.count(key)} task(s)" for key in SAFE_OPTIONS if key in changed]
    return differences, summary
