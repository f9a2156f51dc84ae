"""Where dead letters live, and the one Redis client per URL that the process shares.

The store is a Redis hash per source queue, `celery-topology.dead.<queue>`, field = task id,
value = a JSON record; the worker writes it (`runtime/deadletter.py`), `celery-topology dead`
reads, replays and purges it (`cluster/deadletters.py`). It is the broker's Redis if the broker
is Redis, else a Redis result backend, else there is none.
"""

from __future__ import annotations

from functools import cache

import redis

from ..topology.model import Topology

PREFIX = "celery-topology.dead."
CLAIM_PREFIX = "celery-topology.replaying."


def store_url(topology: Topology) -> str | None:
    """Where dead letters live: the broker if it is Redis, else a Redis result backend, else nowhere."""
    return topology.redis_url


@cache
def client(url: str) -> redis.Redis:
    """One client per Redis URL for the process (the dead-letter store, queue depths, doctor)."""
    return redis.Redis.from_url(url.replace("redis+socket://", "unix://", 1), socket_timeout=10)
