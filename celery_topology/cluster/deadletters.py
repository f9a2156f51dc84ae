"""The dead-letter store as `celery-topology dead` sees it: list, find, replay, purge.

Replay re-sends through normal routing under a new task id (the old id's FAILURE result stays
as it was), then deletes the record: a crash in between leaves the record, never loses it. A
short `SET NX` claim keeps two replays of one record from both sending.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..runtime.store import CLAIM_PREFIX, PREFIX, client

if TYPE_CHECKING:
    from celery import Celery

CLAIM_SECONDS = 60


def entries(url: str, queue: str | None = None) -> Iterator[dict[str, Any]]:
    """Every record (of `queue`, else of every queue), oldest first within each queue."""
    r = client(url)
    keys = [PREFIX + queue] if queue else sorted(k.decode() for k in r.scan_iter(match=PREFIX + "*"))
    for key in keys:
        found = [json.loads(v) for v in r.hvals(key)]
        yield from sorted(found, key=lambda e: (e["time"], e["id"]))


def find(url: str, task_id: str) -> dict[str, Any] | None:
    return next((e for e in entries(url) if e["id"] == task_id), None)


def replay(url: str, app: Celery, entry: dict[str, Any]) -> str | None:
    """Send `entry` again through normal routing; the new task id, or None if another replay holds it."""
    r = client(url)
    claim = CLAIM_PREFIX + entry["id"]
    if not r.set(claim, "1", nx=True, ex=CLAIM_SECONDS):
        return None
    try:
        sent = app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"])
        r.hdel(PREFIX + entry["queue"], entry["id"])
    finally:
        r.delete(claim)
    return str(sent.id)


def purge(url: str, queue: str | None = None) -> int:
    """Delete every record (of `queue`, else of all queues); how many were deleted."""
    r = client(url)
    keys = [PREFIX + queue] if queue else list(r.scan_iter(match=PREFIX + "*"))
    if not keys:
        return 0
    pipe = r.pipeline()  # MULTI: what is counted is what is deleted
    for key in keys:
        pipe.hlen(key)
    pipe.delete(*keys)
    return sum(pipe.execute()[:-1])
