"""Per-task options of an app: the settings Celery copies onto every task, and `task_annotations`.

Celery gives a task its options in this order, each overriding the one before: the task's code
(decorator, class, `base=`), then the settings it copies where the code set none (`task_acks_late`,
`task_ignore_result`, `task_serializer`...), then the annotation for its exact name, then the `'*'`
annotation (`Task.annotate` applies both, `'*'` last, over the code's values too). So the settings
become `defaults`, the `'*'` annotation overrides them there, and an exact name's annotation
becomes that task's own route, carrying the queue and priority it already had, without the keys
`'*'` overrides. An option the task's code sets needs no route: `configure` lets code win; where
an annotation overrides the code, that is reported (under the topology the code would win).
An annotation object (not a mapping) is code: what it answers for each registered task is written
as route options and reported, as routers are.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

from celery import Celery
from celery.app.annotations import MapAnnotation
from celery.utils.functional import maybe_evaluate
from pydantic import TypeAdapter, ValidationError

from ..runtime.config import set_by_app
from ..runtime.taskoptions import config_setting, set_by_code
from ..topology.grammar import RateLimit
from ..topology.options import Serializer
from .draft import Draft
from .routes import compact, matching_key

# Celery setting Task.bind copies onto every task -> the `defaults` key it becomes
SETTINGS = {
    "task_acks_late": "acks_late",
    "task_reject_on_worker_lost": "reject_on_worker_lost",
    "task_ignore_result": "ignore_result",
    "task_track_started": "track_started",
    "task_serializer": "serializer",
    "task_default_rate_limit": "rate_limit",
}
FLAGS = ("acks_late", "reject_on_worker_lost", "ignore_result", "track_started")
SECONDS = ("time_limit", "soft_time_limit", "expires")
RETRY = {"max_retries": "max_retries", "default_retry_delay": "delay"}  # task attribute -> retry policy key
CONVERTIBLE = (*FLAGS, *SECONDS, *RETRY, "rate_limit", "serializer")
_RATE: TypeAdapter[str] = TypeAdapter(RateLimit)


def _value(key: str, value: Any) -> Any:
    """`value` of the task option `key` as the topology writes it; ValueError when it has no form there."""
    if key in FLAGS:
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if key == "serializer":
        if value not in get_args(Serializer):
            raise ValueError(f"{value!r} is not a kombu built-in serializer; name it in the task's code")
        return value
    if key == "rate_limit":
        try:
            return str(_RATE.validate_python(str(value)))
        except ValidationError:
            raise ValueError(f"{value!r} is not a rate limit such as 10/s, 1/m or 100/h") from None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != int(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not whole seconds")
    if key in ("time_limit", "soft_time_limit") and seconds == 0:
        raise ValueError("0 (no limit to Celery) is written by leaving the key out")
    return int(seconds)


def as_written(options: dict[str, Any], where: str, draft: Draft) -> dict[str, Any]:
    """Task options (Celery's attribute names) as topology keys; the others are reported as not converted."""
    written: dict[str, Any] = {}
    for key, value in options.items():
        if key not in CONVERTIBLE:
            kind = "wraps a method (code)" if key.startswith("@") else "has no topology form"
            draft.refuse(f"{where}: {key} {kind}; keep it in the app")
            continue
        try:
            converted = _value(key, value)
        except ValueError as exc:
            draft.refuse(f"{where}: {key}: {exc}")
            continue
        if key in RETRY:
            written.setdefault("retry", {})[RETRY[key]] = converted
        else:
            written[key] = converted
    return written


def from_settings(app: Celery, draft: Draft) -> dict[str, Any]:
    """The task options the app's own settings give every task (not Celery's defaults)."""
    found = {key: app.conf[setting] for setting, key in SETTINGS.items() if set_by_app(app, setting)}
    found = {key: value for key, value in found.items() if value is not None}
    return as_written(found, "settings", draft)


def _label(annotation: Any) -> str:
    return getattr(annotation, "__qualname__", None) or type(annotation).__qualname__


def _layers(app: Celery, draft: Draft) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the `'*'` annotation, the exact annotation of each task name) as Celery resolves them: the first answer wins."""
    every: dict[str, Any] | None = None
    exact: dict[str, dict[str, Any]] = {}
    for annotation in map(maybe_evaluate, app.annotations):
        if every is None and hasattr(annotation, "annotate_any"):
            every = annotation.annotate_any() or None
        if isinstance(annotation, MapAnnotation):
            for name in annotation:
                if name != "*":
                    exact.setdefault(name, dict(annotation[name]))
            continue
        answered = {}
        for name, task in app.tasks.items():
            found = annotation.annotate(task) if hasattr(annotation, "annotate") else None
            if found and name not in exact:
                answered[name] = exact[name] = dict(found)
        draft.refuse(
            f"annotation {_label(annotation)} is code, not convertible; it answered for {len(answered)} registered task(s)"
            + (f": {', '.join(sorted(answered))} (written as route options: review them)" if answered else "")
        )
    return every or {}, exact


def _code_overridden(app: Celery, name: str, keys: set[str], draft: Draft) -> None:
    task = app.tasks.get(name)
    if task is None:
        return
    # only a setting Task.bind copies is told apart from the annotation written over it on the same class
    overridden = sorted(key for key in keys if config_setting(task, key) and set_by_code(task, key))
    if overridden:
        draft.refuse(
            f"task {name}: its code sets {', '.join(overridden)}, which Celery's annotation overrides;"
            " under the topology the code's value wins: remove it from the code to keep the annotation's"
        )


def read_annotations(app: Celery, routes: dict[str, Any], defaults: dict[str, Any], draft: Draft) -> dict[str, Any]:
    """`routes` with each exact name's annotation as its own route; `defaults` updated with the `'*'` annotation."""
    every, exact = _layers(app, draft)
    for name in [name for name in app.tasks if not name.startswith("celery.")] if every else ():
        _code_overridden(app, name, set(every), draft)
    defaults.update(as_written(every, "annotation '*'", draft))
    routes = dict(routes)
    for name, options in exact.items():
        kept = {key: value for key, value in options.items() if key not in every}  # '*' is applied last
        if name.startswith("celery."):
            draft.refuse(f"annotation {name!r}: Celery's own tasks keep their options (the topology gives them none)")
            continue
        _code_overridden(app, name, set(kept), draft)
        written = as_written(kept, f"annotation {name!r}", draft)
        if not written:
            continue
        key = matching_key(routes, name)
        body = routes.get(key) if key is not None else {}
        body = {"queue": body} if isinstance(body, str) else dict(body or {})
        retry = {**body.get("retry", {}), **written.pop("retry", {})}
        routes[name] = compact({**body, **written, **({"retry": retry} if retry else {})})
    return routes
