"""Beat entries of an app as `beat.schedule` entries: crontab as a cron line, intervals as `every`.

A crontab whose fields Celery took in an undocumented form is written from the values it expands
to (so it means the same); solar schedules have no topology form and are reported; any other
schedule object is written as `schedule: module:object` when a module of the app holds it.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from celery.schedules import crontab, schedule, solar

from ..topology.cron import check_cron
from .draft import Draft

PLAIN_OPTIONS = ("queue", "priority", "expires")


def cron_line(entry: crontab) -> str:
    """The 5-field line that means what `entry` means, as its author wrote it where validate accepts that."""
    written = [entry._orig_minute, entry._orig_hour, entry._orig_day_of_month, entry._orig_month_of_year]
    written.append(entry._orig_day_of_week)
    texts = [",".join(map(str, sorted(w))) if isinstance(w, set | list | tuple | range) else str(w) for w in written]
    try:
        return check_cron(" ".join(texts))
    except ValueError:
        expanded = [entry.minute, entry.hour, entry.day_of_month, entry.month_of_year, entry.day_of_week]
        return " ".join(",".join(map(str, sorted(values))) for values in expanded)


def _import_path(value: object) -> str | None:
    """`module:name` of a module-level object that is `value`, if a loaded module of the app holds it."""
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith(("celery", "kombu", "celery_topology")) or module is None:
            continue
        for name, candidate in list(vars(module).items()):
            if candidate is value and not name.startswith("_"):
                return f"{module_name}:{name}"
    return None


def _seconds(value: float, where: str, draft: Draft) -> int | None:
    if value < 1 or value != int(value):
        draft.refuse(f"{where}: an interval of {value}s is not whole seconds (at least 1); set it by hand")
        return None
    return int(value)


def _when(name: str, when: Any, draft: Draft) -> dict[str, Any] | None:
    where = f"beat entry {name!r}"
    if isinstance(when, solar):
        draft.refuse(f"{where}: solar schedules (sunrise, sunset at a place) have no topology form; keep it in code")
        return None
    if isinstance(when, crontab):
        return {"cron": cron_line(when)}
    if isinstance(when, int | float | timedelta) or type(when) is schedule:
        seconds = when.run_every if isinstance(when, schedule) else when
        total = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        every = _seconds(total, where, draft)
        return None if every is None else {"every": every}
    path = _import_path(when)
    if path is None:
        draft.refuse(f"{where}: its schedule ({type(when).__name__}) is not importable from the app's modules")
        return None
    return {"schedule": path}


def beat_entry(name: str, entry: dict[str, Any], file_priority: Any, draft: Draft) -> dict[str, Any] | None:
    """One beat_schedule entry as the topology writes it; None (and a report) when it cannot be."""
    when = _when(name, entry["schedule"], draft)
    if when is None:
        return None
    written: dict[str, Any] = {"task": entry["task"], **when}
    if entry.get("args"):
        written["args"] = list(entry["args"])
    if entry.get("kwargs"):
        written["kwargs"] = dict(entry["kwargs"])
    options = dict(entry.get("options") or {})
    if options.get("queue") is not None:
        queue = options["queue"]
        written["queue"] = getattr(queue, "name", queue)
    if options.get("priority") is not None:
        written["priority"] = file_priority(options["priority"])
    if options.get("expires") is not None:
        expires = options["expires"]
        seconds = (
            _seconds(float(expires), f"beat entry {name!r} expires", draft)
            if isinstance(expires, int | float)
            else None
        )
        if seconds is not None:
            written["expires"] = seconds
    rest = sorted(set(options) - set(PLAIN_OPTIONS))
    if rest:
        draft.refuse(f"beat entry {name!r}: options {', '.join(rest)} have no topology form; set them in code")
    if entry.get("relative"):
        draft.refuse(f"beat entry {name!r}: relative=True (aligned to the clock) is not kept")
    return written
