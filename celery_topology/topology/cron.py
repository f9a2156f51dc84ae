"""Cron lines as `beat.schedule.<name>.cron` takes them: five fields, numbers or names, ranges, steps, lists."""

from __future__ import annotations

import re

_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_PART = re.compile(r"(\*|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?")


def check_cron(line: str) -> str:
    """A 5-field cron line (minute hour day-of-month month day-of-week), returned single-spaced."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), this one has {len(fields)}")
    for text, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            match = _CRON_PART.fullmatch(part)
            if not match or match.group(4) == "0" or (match.group(4) and match.group(4).startswith("0")):
                raise ValueError(f"cron {what} field {text!r} is not valid")
            for value in filter(None, match.group(2, 3)):
                if value in names:
                    number = names.index(value) + (low if what == "month" else 0)
                elif value.isdigit():
                    number = int(value)
                else:
                    raise ValueError(f"cron {what} field {text!r} is not valid")
                if not low <= number <= high:
                    raise ValueError(f"cron {what} {value!r} is outside {low}..{high}")
    return " ".join(fields)
