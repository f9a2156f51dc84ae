"""The file's alert targets (`render prometheus` writes rules of them, `GET /metrics` serves them).

A queue's `max_wait` and `max_depth`, a pool's `min_workers`, and `defaults` for all of them plus
`alert_for`. `targets.py` resolves them for one queue or pool.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from .base import STRICT
from .grammar import Duration, PositiveDuration

MaxDepth = Annotated[int, Field(ge=1, le=10**9)]
MinWorkers = Annotated[int, Field(ge=0, le=10_000)]  # 0: the pool may be down (scaled to zero)
WAIT = "alert when the oldest waiting task has waited longer than this (Redis: read from the publish time)"
DEPTH = "alert when more messages than this wait in the queue, every priority summed"
WORKERS = "alert when fewer workers of the pool are online (default: its hosts, else scale.min, else 1; 0: never)"


class QueueTargets(BaseModel):
    model_config = STRICT

    max_wait: Annotated[Duration | None, Field(description=WAIT)] = None
    max_depth: Annotated[MaxDepth | None, Field(description=DEPTH)] = None


class PoolTargets(BaseModel):
    model_config = STRICT

    min_workers: Annotated[MinWorkers | None, Field(description=WORKERS)] = None


class DefaultTargets(QueueTargets, PoolTargets):
    """`defaults`: the targets of every queue and pool that gives none, and how long a breach lasts before it pages."""

    alert_for: Annotated[PositiveDuration, Field(description="how long a breach lasts before its alert fires")] = 300
