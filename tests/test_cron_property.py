"""`cron` accepts exactly what Celery runs: generated lines go to both `check_cron` and Celery's crontab.

No line that validate accepts may make `crontab.from_string` (on the line `configure` passes) raise,
and where both accept, both must mean the same minutes, hours, days and months. Every form Celery
documents is accepted.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from celery.schedules import crontab

from celery_topology.topology.cron import FIELDS, check_cron, cron_values, shortest_gap

LINES = 3000
NAMES = ["jan", "Feb", "december", "mon", "FRI", "sunday", "tues", "sat", "funday", "monx", "7", "x"]
JUNK = ["", "-1", "5/15", "*/0", "*/", "1-5/", "1-5/2/3", "1--5", "*x", "**", "1-5-7", "٣", "+5", "1.5", "/5", "*/05"]


def _number(rng: random.Random, index: int, bad: float) -> str:
    field = FIELDS[index]
    edge = rng.random() < bad
    number = rng.choice([field.low - 1, field.high + 1, field.high + 2]) if edge else rng.randint(field.low, field.high)
    if rng.random() < 0.1:
        return f"0{number}"
    if field.names and rng.random() < 0.3:
        return rng.choice(sorted(field.names))
    return str(number)


def _item(rng: random.Random, index: int, bad: float) -> str:
    if rng.random() < bad:
        return rng.choice([*NAMES, *JUNK, f"{_number(rng, index, 0)}/{rng.randint(1, 20)}", f"*/{rng.randint(0, 1)}"])
    kind = rng.randrange(6)
    if kind == 0:
        return "*"
    if kind == 1:
        return f"*/{rng.randint(1, 70)}"
    if kind == 2:
        return _number(rng, index, bad)
    if kind in (3, 4):
        return f"{_number(rng, index, bad)}-{_number(rng, index, bad)}"
    return f"{_number(rng, index, bad)}-{_number(rng, index, bad)}/{rng.randint(1, 40)}"


def _line(rng: random.Random) -> str:
    """Half the lines from valid pieces only (days of month beyond the month's length still occur), half with errors."""
    bad = rng.choice([0.0, 0.0, 0.08, 0.25])
    count = rng.choices([5, 4, 6], weights=[40, 1, 1])[0] if bad else 5
    fields = []
    for i in range(count):
        items = [_item(rng, min(i, 4), bad) for _ in range(rng.choices([1, 2, 3], weights=[6, 2, 1])[0])]
        fields.append(",".join(items))
    return rng.choice([" ", "  ", "\t"]).join(fields) if rng.random() < 0.05 else " ".join(fields)


def _celery(line: str) -> crontab | Exception:
    try:
        return crontab.from_string(line)
    except Exception as exc:  # what a worker would crash with at import
        return exc


def _sets(schedule: crontab) -> tuple[set[int], ...]:
    return (
        schedule.minute,
        schedule.hour,
        schedule.day_of_month,
        schedule.month_of_year,
        schedule.day_of_week,
    )


@pytest.mark.celery_internals
def test_generated_lines_validate_accepts_celery_runs() -> None:
    rng = random.Random(20260710)
    accepted = refused = 0
    for _ in range(LINES):
        line = _line(rng)
        try:
            passed = check_cron(line)
        except ValueError:
            refused += 1
            continue
        accepted += 1
        celery = _celery(passed)
        assert not isinstance(celery, Exception), f"validate accepts {line!r}, Celery refuses it: {celery}"
        assert cron_values(line) == _sets(celery), line
    assert accepted >= 600 and refused >= 600, (accepted, refused)
    assert accepted + refused == LINES >= 2000


DOCUMENTED = [
    "* * * * *",
    "0 0 * * *",
    "*/15 * * * *",
    "1,13,30-45,50-59/2 * * * *",
    "0 */3 * * *",
    "0 0,8-17/2 * * *",
    "0 0 * * mon-fri",
    "0 0 * * monday",
    "0 0 * * sun,sat",
    "30 2 * * saturday",
    "0 7 * * wed",
    "0 0 * * */2",
    "0 0 2-30/2 * *",
    "0 0 1-7,15-21 * *",
    "0 0 * */3 *",
    "0 0 * 2-12/2 *",
    "0 0 1 jan *",
    "0 0 1 jan-jun *",
    "0 0 1 january,july *",
    "0 0 29 2 *",
    "0 22-2 * * *",
    "0 0 * * fri-mon",
    "05 4 * * *",
    "0 0 * * 0-6",
    "0 0 * * MON-FRI",
]


@pytest.mark.parametrize("line", DOCUMENTED)
def test_documented_forms_are_accepted_and_mean_what_celery_means(line: str) -> None:
    assert cron_values(line) == _sets(crontab.from_string(check_cron(line)))


REFUSED = {
    "0 0 * * 7": "cron day of week '7' is outside 0..6 (Sunday is 0; write 0 or sun) (Celery refuses it: Invalid end range: 7 > 6.)",
    "5/15 * * * *": "cron minute field '5/15': a step needs a range or '*' before it; write */15 or 5-59/15 (Celery refuses it: Invalid weekday literal '5/15'.)",
    "0 0 31 2 *": "cron day of month '31' never occurs in month '2'; pick a day those months have (Celery refuses it: Invalid crontab: day_of_month '31' never occurs in month_of_year '2'.)",
    "*/0 * * * *": "cron minute field '*/0': a step of 0 never advances; use 1 or more (Celery refuses it: slice step cannot be zero)",
    "1,,2 * * * *": "cron minute field '1,,2' has an empty item; remove the extra ',' (Celery refuses it: empty part)",
    "0 0 * * funday": "cron day of week field 'funday': 'funday' is not a number or a day name (mon, monday) (Celery refuses it: Invalid weekday literal 'funday'.)",
}


@pytest.mark.parametrize("line", REFUSED)
def test_refused_with_celerys_reason(line: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_cron(line)
    assert str(caught.value) == REFUSED[line]
    assert isinstance(_celery(line), Exception)


@pytest.mark.parametrize(
    ("line", "gap"),
    [
        ("* * * * *", 60),
        ("*/15 * * * *", 900),
        ("0,50 9-17 * * 1-5", 600),  # 9:50 then 10:00
        ("*/7 3-4 * * *", 240),  # 3:56 then 4:00
        ("30 * * * *", 3600),
        ("5 */2 * * *", None),  # two hours apart
        ("0 2 * * *", None),
    ],
)
def test_shortest_gap_is_celerys(line: str, gap: int | None) -> None:
    """The closest two of Celery's own next 300 runs (two days and more of the busiest line) are `gap` apart,
    or more than an hour apart where shortest_gap says None."""
    schedule = crontab.from_string(line)
    runs, last = [], datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    for _ in range(300):
        base, delta, _now = schedule.remaining_delta(last)
        last = (base + delta).replace(second=0, microsecond=0)
        runs.append(last)
        last += timedelta(seconds=1)
    closest = min(int((b - a).total_seconds()) for a, b in pairwise(runs))
    assert shortest_gap(line) == gap
    assert closest == gap if gap is not None else closest > 3600
