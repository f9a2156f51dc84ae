"""Cron lines as `beat.schedule.<name>.cron` takes them: what Celery's `crontab` runs, and nothing it refuses.

Five fields (minute hour day-of-month month day-of-week) of comma-separated items; an item is `*`,
`*/STEP`, a value, `A-B` or `A-B/STEP`; a value is a number, a month name in the month field
(`jan`, `january`) or a day name in the day-of-week field (`mon`, `monday`), in any case. A range
whose end is below its start wraps around (`22-2` in hours), as Celery's does. Sunday is 0 (Celery
refuses 7), a step is 1 or more, and a day of month must occur in one of the listed months
(February has 29 days). Each refusal names the fix and the reason Celery itself would give, so
a line this module accepts never makes a worker or beat fail at import (a property test feeds
the same lines to `celery.schedules.crontab.from_string`). Forms Celery takes by accident (trailing
text after a step, `jan` as a day of week) are refused here. Celery is not imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
WEEKDAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # Celery's CRON_DAYS_IN_MONTH


@dataclass(frozen=True)
class CronField:
    what: str
    low: int
    high: int
    names: dict[str, int]
    hint: str = ""


FIELDS = (
    CronField("minute", 0, 59, {}),
    CronField("hour", 0, 23, {}),
    CronField("day of month", 1, 31, {}),
    CronField("month", 1, 12, {n: i + 1 for names in (MONTHS, MONTH_NAMES) for i, n in enumerate(names)}),
    CronField(
        "day of week",
        0,
        6,
        {n: i for names in (WEEKDAYS, WEEKDAY_NAMES) for i, n in enumerate(names)},
        " (Sunday is 0; write 0 or sun)",
    ),
)
_ITEM = re.compile(r"(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:(/)([0-9]*))?")


def _value(token: str, field: CronField, text: str) -> int:
    if token.isdigit():
        number = int(token)
    elif token.lower() in field.names:
        number = field.names[token.lower()]
    else:
        kinds = {"month": "a month name (jan, january)", "day of week": "a day name (mon, monday)"}
        allowed = f"a number or {kinds[field.what]}" if field.what in kinds else "a number"
        # Celery reads any word whose first three letters name a month or a day, in any field: refused here
        celery_takes_it = token[:3].lower() in (*MONTHS, *WEEKDAYS)
        reason = "" if celery_takes_it else f" (Celery refuses it: Invalid weekday literal {token!r}.)"
        raise ValueError(f"cron {field.what} field {text!r}: {token!r} is not {allowed}{reason}")
    if number > field.high:
        reason = f"Invalid end range: {number} > {field.high}."
        raise ValueError(
            f"cron {field.what} {token!r} is outside {field.low}..{field.high}{field.hint} (Celery refuses it: {reason})"
        )
    if number < field.low:
        reason = f"Invalid beginning range: {number} < {field.low}."
        raise ValueError(
            f"cron {field.what} {token!r} is outside {field.low}..{field.high} (Celery refuses it: {reason})"
        )
    return number


def _item(part: str, field: CronField, text: str) -> set[int]:
    """The values one comma-separated item stands for."""
    match = _ITEM.fullmatch(part)
    if match is None:
        raise ValueError(
            f"cron {field.what} field {text!r} is not valid; write *, */15, 5, 1-5, 1-5/2 or a list of them"
        )
    star, start, end, slash, step = match.groups()
    if slash and not step:
        raise ValueError(
            f"cron {field.what} field {text!r}: '/' needs a step after it (Celery refuses it: empty filter)"
        )
    if slash and int(step) == 0:
        raise ValueError(
            f"cron {field.what} field {text!r}: a step of 0 never advances; use 1 or more"
            " (Celery refuses it: slice step cannot be zero)"
        )
    if slash and not star and end is None:
        raise ValueError(
            f"cron {field.what} field {text!r}: a step needs a range or '*' before it;"
            f" write */{step} or {start}-{field.high}/{step} (Celery refuses it: Invalid weekday literal {part!r}.)"
        )
    if star:
        values = list(range(field.low, field.high + 1))
    else:
        first = _value(start, field, text)
        last = first if end is None else _value(end, field, text)
        # a range whose end is below its start wraps around, as in Celery
        values = (
            list(range(first, last + 1))
            if last >= first
            else [*range(first, field.high + 1), *range(field.low, last + 1)]
        )
    return set(values[:: int(step)] if slash else values)


def cron_values(line: str) -> tuple[set[int], ...]:
    """The values each field of a valid cron line stands for (minute, hour, day of month, month, day of week)."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), this one has {len(fields)}")
    expanded = []
    for text, field in zip(fields, FIELDS, strict=True):
        values: set[int] = set()
        for part in text.split(","):
            if not part:
                raise ValueError(
                    f"cron {field.what} field {text!r} has an empty item; remove the extra ',' (Celery refuses it: empty part)"
                )
            values |= _item(part, field, text)
        expanded.append(values)
    days, months = expanded[2], expanded[3]
    if not any(day <= DAYS_IN_MONTH[month - 1] for month in months for day in days):
        reason = f"Invalid crontab: day_of_month {fields[2]!r} never occurs in month_of_year {fields[3]!r}."
        raise ValueError(
            f"cron day of month {fields[2]!r} never occurs in month {fields[3]!r}; pick a day those months have"
            f" (Celery refuses it: {reason})"
        )
    return tuple(expanded)


def check_cron(line: str) -> str:
    """A 5-field cron line (minute hour day-of-month month day-of-week), returned single-spaced.

    The single-spaced line is what `configure` gives `crontab.from_string` (which splits on one space).
    """
    cron_values(line)
    return " ".join(line.split())


def shortest_gap(line: str) -> int | None:
    """Seconds between the two closest runs of a valid cron line, when two runs fall within one hour or in two
    consecutive hours of a day; None otherwise (runs are then more than an hour apart)."""
    minutes, hours = cron_values(line)[:2]
    ordered = sorted(minutes)
    gaps = [later - earlier for earlier, later in pairwise(ordered)]
    if any(hour + 1 in hours for hour in hours):
        gaps.append(60 - ordered[-1] + ordered[0])
    return min(gaps) * 60 if gaps else None
