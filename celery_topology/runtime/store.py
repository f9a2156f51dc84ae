"""Where dead letters live, and the one Redis client per URL that the process shares.

Each record is its own Redis string, `celery-topology.dead-letter.<queue>.<task id>` (a JSON
record), written once per id (`SET NX`) with the route's `dead_letter.keep` as its expiry, so Redis
itself deletes it on time. A sorted set per source queue, `celery-topology.dead.<queue>`, indexes
the ids (score: when the record expires; the set expires with its longest-lived record), so
listing never scans the keyspace. The worker writes (`runtime/deadletter.py`), `celery-topology
dead` reads, replays and purges (`cluster/deadletters.py`). The store is the broker's Redis if the
broker is Redis, else a Redis result backend, else there is none.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

import redis

from ..topology.model import Topology

PREFIX = "celery-topology.dead."  # + queue: the index of that queue's records
RECORD_PREFIX = "celery-topology.dead-letter."  # + queue + "." + task id: one record
CLAIM_PREFIX = "celery-topology.replaying."
KEEP_DEFAULT = 7 * 86400  # dead_letter.keep when the file says nothing

# KEYS: record, index. ARGV: record JSON, seconds to keep, expiry time, task id.
_PUT = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
if redis.call('TTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return 1
"""


def store_url(topology: Topology) -> str | None:
    """Where dead letters live: the broker if it is Redis, else a Redis result backend, else nowhere."""
    return topology.redis_url


def redis_py_url(url: str) -> str:
    """`url` as redis-py reads it: kombu's `redis+socket://PATH` is redis-py's `unix://PATH`."""
    return url.replace("redis+socket://", "unix://", 1)


@cache
def client(url: str) -> redis.Redis:
    """One client per Redis URL for the process (the dead-letter store, queue depths, doctor)."""
    return redis.Redis.from_url(redis_py_url(url), socket_timeout=10)


def record_key(queue: str, task_id: str) -> str:
    return f"{RECORD_PREFIX}{queue}.{task_id}"


def put(url: str, entry: dict[str, Any], seconds: int) -> bool:
    """Keep `entry` for `seconds`, once per task id and queue; True if it was new."""
    keys = [record_key(entry["queue"], entry["id"]), PREFIX + entry["queue"]]
    expires = int(time.time()) + seconds + 1  # never before Redis expires the record (a gone one is skipped)
    return bool(client(url).eval(_PUT, 2, *keys, json.dumps(entry, default=str), seconds, expires, entry["id"]))
