"""Retry policies from the topology, applied on the worker without any change to task code.

When the app is finalized and when its worker starts, every registered task whose
name does not start with `celery.` gets the attributes Celery's own autoretry reads
(`autoretry_for`, `max_retries`, `retry_backoff`, `retry_backoff_max`, `retry_jitter`,
`default_retry_delay`), its time limits and its task options (`rate_limit`, `expires`, `acks_late`,
`reject_on_worker_lost`, `ignore_result`, `track_started`, `serializer`), computed from `Router.resolve(task.name)`;
then Celery's `add_autoretry_behaviour` wraps it. Whatever the task's own code sets
(decorator options, or attributes of its class, a `base=` class or the app's `task_cls`) wins, decided by
where it was set (`taskoptions.py`),
and a task its code already made autoretry keeps all its own retry settings. A task retried `max_retries` times that
fails again is recorded as FAILURE by Celery, and `on_retries_exhausted` logs it and keeps it
in the dead-letter store (`deadletter.py`).
"""

from __future__ import annotations

import builtins
import importlib
import logging
from functools import cache
from typing import Any

from celery import Celery, Task
from celery.app.autoretry import add_autoretry_behaviour
from celery.signals import task_failure, worker_init

from ..topology.errors import Problem, TopologyError
from ..topology.model import RetryPolicy, Topology
from ..topology.routing import Resolution, Router, is_celery_own
from . import deadletter, losses
from .marks import POLICY_MARK
from .taskoptions import set_by_code

logger = logging.getLogger("celery_topology.retries")


@cache
def exception_class(ref: str, where: str = "retry.errors") -> type[BaseException]:
    """`ConnectionError` (a builtin) or `package.module.Error` -> the class; TopologyError if it is not one."""
    module_name, _, name = ref.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name) if module_name else builtins, name)
    except (ImportError, AttributeError) as exc:
        found = exc
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        message = (
            f"{ref!r} is not an importable exception class; check the import path and that its package is installed"
        )
        raise TopologyError([Problem("", None, None, where, message, "retry-error")])
    return found


def check_exceptions(topology: Topology) -> None:
    """Import every exception the file names now, so a typo fails at start-up and not at the first failure."""
    layers = {"defaults.retry.errors": topology.defaults.retry}
    layers.update({f"routes.{key}.retry.errors": route.retry for key, route in topology.routes.items()})
    for where, policy in layers.items():
        for ref in policy.errors or () if policy else ():
            exception_class(ref, where)


def task_attributes(found: Resolution) -> dict[str, Any]:
    """The Task attributes that make Celery retry as `found.retry` says, and apply the time limits."""
    policy: RetryPolicy = found.retry
    exponential = policy.backoff == "exponential" and bool(policy.delay)
    return {
        "autoretry_for": tuple(exception_class(ref) for ref in policy.errors or ()),
        "max_retries": policy.max_retries,
        "default_retry_delay": policy.delay,
        "retry_backoff": policy.delay if exponential else False,
        "retry_backoff_max": policy.max_delay,
        "retry_jitter": bool(policy.jitter),
        "time_limit": found.time_limit,
        "soft_time_limit": found.soft_time_limit,
        **found.options,  # rate_limit, expires, acks_late...: only those the topology sets
    }


RETRY_ATTRIBUTES = (
    "autoretry_for",
    "max_retries",
    "default_retry_delay",
    "retry_backoff",
    "retry_backoff_max",
    "retry_jitter",
)


def apply_policy(task: Task, router: Router) -> None:
    """Give one task the topology's retry policy, time limits and task options, unless its code says otherwise
    (decided by where a value was set: `taskoptions.set_by_code`).

    A task whose code asked for autoretry (`autoretry_for` in the decorator or on a base class) was
    already wrapped by Celery (`_orig_run`), with that code's exceptions and backoff captured: its
    retry attributes are all left alone, so they keep describing what it does; only the time limits
    come from the topology (where its code does not set them).
    """
    if task.name is None or is_celery_own(task.name) or hasattr(task, POLICY_MARK):
        return
    found = router.resolve(task.name)
    retries_by_code = hasattr(task, "_orig_run")
    for attribute, value in task_attributes(found).items():
        if retries_by_code and attribute in RETRY_ATTRIBUTES:
            continue
        if not set_by_code(task, attribute):
            setattr(task, attribute, value)
    task._exec_options = None  # publish options (expires, serializer) are read again from the attributes
    setattr(task, POLICY_MARK, found)
    add_autoretry_behaviour(task)
    losses.guard(task, router.topology, found.pattern)


def on_retries_exhausted(task: Task, task_id: str, exc: BaseException) -> None:
    """The one place that acts when a task has used up its retries (Celery has already stored FAILURE)."""
    logger.error("retries exhausted: task=%s id=%s exception=%r", task.name, task_id, exc)
    deadletter.on_failure(task, task_id, exc, exhausted=True)


def _check_exhausted(
    sender: Task | None = None, task_id: str = "", exception: BaseException | None = None, **_: Any
) -> None:
    """`task_failure` handler: a listed exception on the last allowed try means the retries are exhausted."""
    if sender is None or exception is None or not hasattr(sender, POLICY_MARK):
        return
    retried_for = tuple(getattr(sender, "autoretry_for", ()))
    max_retries = sender.max_retries
    last_try = max_retries is not None and (sender.request.retries or 0) >= max_retries
    if retried_for and isinstance(exception, retried_for) and last_try:
        on_retries_exhausted(sender, task_id, exception)


def install(app: Celery, router: Router) -> None:
    """Apply policies to every task of `app`, and watch for exhausted retries.

    Twice, both idempotent: when the app is finalized (function tasks are created then), and when
    a worker of this app starts (`worker_init`, before any tracer captures `task.run`), which also
    catches class-based tasks registered after finalization.
    """

    def apply_all(**_: Any) -> None:
        for task in list(app.tasks.values()):
            apply_policy(task, router)

    def on_worker_init(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app:
            apply_all()

    check_exceptions(router.topology)
    deadletter.install(app, router.topology)
    if app.finalized:
        apply_all()
    else:
        app.on_after_finalize.connect(apply_all, weak=False, dispatch_uid="celery_topology.retries")
    worker_init.connect(on_worker_init, weak=False, dispatch_uid=f"celery_topology.retries.{id(app)}")
    task_failure.connect(_check_exhausted, weak=False, dispatch_uid="celery_topology.retries")
