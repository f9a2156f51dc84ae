"""The dead-letter store as `celery-topology dead` sees it: list, find, replay, purge.

Replay re-sends under a new task id (the old id's FAILURE result stays as it was) to the queue the
task failed on, with its priority and headers, then deletes the record: a crash in between leaves
the record, never loses it. A short `SET NX` claim keeps two replays of one record from both sending.
A record kept without its arguments (`keep_args: false`) cannot be replayed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..runtime.store import CLAIM_PREFIX, PREFIX, client, record_key

if TYPE_CHECKING:
    from celery import Celery

CLAIM_SECONDS = 60


class NotReplayable(Exception):
    """The record was kept without its arguments."""


class Ambiguous(Exception):
    """An id prefix that more than one record starts with."""


def queues(url: str) -> list[str]:
    """The source queues that have dead letters (an index each)."""
    return sorted(k.decode()[len(PREFIX) :] for k in client(url).scan_iter(match=PREFIX + "*"))


def _ids(url: str, index: str) -> list[str]:
    return [i.decode() if isinstance(i, bytes) else str(i) for i in client(url).zrange(index, 0, -1)]


def entries(url: str, queue: str | None = None) -> Iterator[dict[str, Any]]:
    """Every record still kept (of `queue`, else of every queue), oldest first within each queue."""
    r = client(url)
    for name in [queue] if queue else queues(url):
        index = PREFIX + name
        r.zremrangebyscore(index, "-inf", time.time())  # records Redis has expired already
        ids = _ids(url, index)
        values = r.mget([record_key(name, i) for i in ids]) if ids else []
        gone = [i for i, value in zip(ids, values, strict=True) if value is None]
        if gone:
            r.zrem(index, *gone)
        found = [json.loads(value) for value in values if value is not None]
        yield from sorted(found, key=lambda e: (e["time"], e["id"]))


def find(url: str, task_id: str) -> dict[str, Any] | None:
    """The record whose id is `task_id`, else the one record whose id starts with it; Ambiguous if several do."""
    matches = [e for e in entries(url) if e["id"].startswith(task_id)]
    exact = [e for e in matches if e["id"] == task_id]
    if exact or len(matches) <= 1:
        return (exact or matches)[0] if matches else None
    raise Ambiguous(", ".join(sorted({e["id"] for e in matches})))


def replay(url: str, app: Celery, entry: dict[str, Any]) -> str | None:
    """Send `entry` again to its queue, with its priority and headers; the new task id, or None if another replay holds it."""
    if entry.get("args") is None:
        raise NotReplayable(entry["id"])
    r = client(url)
    claim = CLAIM_PREFIX + entry["id"]
    if not r.set(claim, "1", nx=True, ex=CLAIM_SECONDS):
        return None
    try:
        options = {"queue": entry["queue"], "headers": entry.get("headers") or None}
        if entry.get("priority") is not None:
            options["priority"] = entry["priority"]
        sent = app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"], **options)
        pipe = r.pipeline()
        pipe.delete(record_key(entry["queue"], entry["id"]))
        pipe.zrem(PREFIX + entry["queue"], entry["id"])
        pipe.execute()
    finally:
        r.delete(claim)
    return str(sent.id)


def purge(url: str, queue: str | None = None) -> int:
    """Delete every record (of `queue`, else of all queues); how many were deleted."""
    r = client(url)
    deleted = 0
    for name in [queue] if queue else queues(url):
        index = PREFIX + name
        ids = _ids(url, index)
        pipe = r.pipeline()  # MULTI: what is counted is what is deleted
        if ids:
            pipe.delete(*[record_key(name, i) for i in ids])
        pipe.delete(index)
        deleted += pipe.execute()[0] if ids else 0
    return deleted


def counts(url: str, queues: list[str]) -> dict[str, int]:
    """Records still kept per queue (their index's scores are expiry times), read in one pipeline."""
    pipe = client(url).pipeline(transaction=False)
    now = time.time()
    for queue in queues:
        pipe.zcount(PREFIX + queue, f"({now}", "+inf")
    return dict(zip(queues, pipe.execute(), strict=True))
