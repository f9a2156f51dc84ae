"""Beat on several machines: which schedulers lock, the lock's settings, and the rules that keep one beat sending.

celery-redbeat keeps the schedule in Redis behind a lock: every beat process takes part, the one
holding the lock sends, the others poll for it every loop interval. The lock is extended on each
tick (at most `max_loop_interval` apart) and expires `lock_timeout` after the last extension, so a
dead leader is replaced after at most lock_timeout + max_loop_interval. RedBeat's own defaults
(5 x 300 s: 25 minutes) are never used: `configure(app)` and the units always set both.
"""

from __future__ import annotations

from collections.abc import Iterator

from .cron import shortest_gap
from .document import Document
from .errors import Problem
from .model import SCHEDULERS, Beat, Topology

LOCK_TIMEOUT = 30  # seconds, when the file names redbeat without a lock_timeout
MAX_LOOP_INTERVAL = 10  # seconds, likewise


def is_locking(beat: Beat) -> bool:
    """Whether several beat processes may run: only redbeat (or a class of its package) takes a lock."""
    return beat.scheduler == "redbeat" or beat.scheduler.startswith("redbeat.")


def scheduler_path(beat: Beat) -> str:
    """Celery's `beat_scheduler` for the file's `beat.scheduler`."""
    return SCHEDULERS.get(beat.scheduler, beat.scheduler)


def lock_timeout(beat: Beat) -> int:
    return beat.lock_timeout if beat.lock_timeout is not None else LOCK_TIMEOUT


def max_loop_interval(beat: Beat) -> int | None:
    """beat's longest sleep between ticks: the file's, else ours for redbeat, else Celery's own default (None)."""
    if beat.max_loop_interval is not None:
        return beat.max_loop_interval
    return MAX_LOOP_INTERVAL if is_locking(beat) else None


def failover(beat: Beat) -> int:
    """The longest a dead leader goes unreplaced: its lock expires, then a standby polls within one loop."""
    return lock_timeout(beat) + (max_loop_interval(beat) or 0)


def key_prefix(topology: Topology) -> str:
    """RedBeat's key prefix: the app (and environment), so two apps on one Redis never share a lock or schedule."""
    parts = ["redbeat", topology.app, *([topology.environment] if topology.environment else [])]
    return ":".join(parts) + ":"


def beat_hosts(topology: Topology) -> list[str]:
    """The machines that run a beat process: beat.hosts, else beat.host, else none named."""
    if topology.beat is None:
        return []
    return list(topology.beat.hosts or ([topology.beat.host] if topology.beat.host else []))


def beat_rules(t: Topology, doc: Document) -> Iterator[Problem]:
    """Several beats only with a lock; a lock that outlives the loop; a failover shorter than the shortest `every`."""
    if t.beat is None:
        return
    beat = t.beat
    if beat.host is not None and beat.hosts is not None:
        yield doc.problem(("beat", "hosts"), "give beat.host or beat.hosts, not both", "beat-hosts")
    if beat.hosts is not None and len(beat.hosts) > 1 and not is_locking(beat):
        yield doc.problem(
            ("beat", "hosts"),
            f"{len(beat.hosts)} beat processes with the {beat.scheduler!r} scheduler would send every periodic task"
            f" {len(beat.hosts)} times; name one host, or use `scheduler: redbeat` (a Redis lock: one sends, the others stand by)",
            "beat-duplicate",
        )
    if not is_locking(beat):
        if beat.lock_timeout is not None:
            hint = "only redbeat takes a lock; remove it or use `scheduler: redbeat`"
            yield doc.problem(("beat", "lock_timeout"), hint, "beat-lock-unused")
        return
    if t.redis_url is None:
        hint = "redbeat keeps its schedule and lock in Redis; use a Redis broker or result_backend"
        yield doc.problem(("beat", "scheduler"), hint, "beat-redis-missing")
    loop = max_loop_interval(beat) or 0
    if lock_timeout(beat) <= loop:
        yield doc.problem(
            ("beat", "lock_timeout" if beat.lock_timeout is not None else "max_loop_interval"),
            f"lock_timeout ({lock_timeout(beat)}s) must be above max_loop_interval ({loop}s): the lock would expire"
            " between two ticks and a second beat would send too; raise lock_timeout (3 x the loop interval is usual)",
            "beat-lock-timeout",
        )
    yield from _slow_failover(t, doc, beat)


def _slow_failover(t: Topology, doc: Document, beat: Beat) -> Iterator[Problem]:
    gaps = [(entry.every, name, "every") for name, entry in beat.schedule.items() if entry.every is not None]
    for name, entry in beat.schedule.items():
        gap = shortest_gap(entry.cron) if entry.cron is not None else None
        if gap is not None:
            gaps.append((gap, name, "cron"))
    if not gaps:
        return
    shortest, name, key = min(gaps)
    if failover(beat) > shortest:
        between = f"every {shortest}s" if key == "every" else f"closest runs, {shortest}s apart"
        yield doc.problem(
            ("beat", "schedule", name, key),
            f"a failover takes up to {failover(beat)}s (lock_timeout {lock_timeout(beat)}s + max_loop_interval"
            f" {max_loop_interval(beat)}s), longer than this entry's {between}: runs are skipped while beat"
            " fails over; lower beat.lock_timeout and beat.max_loop_interval if that matters",
            "beat-failover-slow",
            severity="warning",
        )


# RedBeat's keys for a topology, named as RedBeatConfig names them; `lock-holder` is ours (runtime/beat.py).
def lock_key(topology: Topology) -> str:
    return key_prefix(topology) + ":lock"


def holder_key(topology: Topology) -> str:
    return key_prefix(topology) + ":lock-holder"


def schedule_key(topology: Topology) -> str:
    return key_prefix(topology) + ":schedule"


def statics_key(topology: Topology) -> str:
    return key_prefix(topology) + ":statics"


def entry_key(topology: Topology, name: str) -> str:
    return key_prefix(topology) + name
