"""Why dead letters live in a Redis hash and not in a kombu queue `<queue>.dead`: measured here.

kombu lists a queue only by consuming it. A lister that dies before it requeues leaves every
record it saw parked in kombu's `unacked` hash: the queue reads empty to the next lister until
the visibility timeout restores them. The hash store reads the same records without moving them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from kombu import Connection

from celery_topology.cluster.deadletters import entries
from celery_topology.runtime.deadletter import keep

from support import RedisServer

OPTIONS = {"visibility_timeout": 3600}
LISTER = """
import os, sys
from kombu import Connection
with Connection(sys.argv[1], transport_options={"visibility_timeout": 3600}) as conn:
    queue = conn.SimpleQueue("work.dead")
    print(sorted(queue.get(timeout=5).payload["id"] for _ in range(5)), flush=True)
    os._exit(0)  # dies before it can requeue what it listed
"""


def test_a_dying_lister_hides_a_kombu_dead_queue_but_not_the_hash(fresh_redis: RedisServer) -> None:
    ids = [f"t-{i}" for i in range(5)]
    with Connection(fresh_redis.url, transport_options=OPTIONS) as conn:
        queue = conn.SimpleQueue("work.dead")
        for task_id in ids:
            queue.put({"id": task_id})
            keep(fresh_redis.url, {"id": task_id, "queue": "work", "time": "2026-01-01T00:00:00Z"})
        listed = subprocess.run([sys.executable, "-c", LISTER, fresh_redis.url], capture_output=True, text=True)
        assert listed.stdout == f"{ids}\n", listed.stderr
        client = fresh_redis.client()
        assert (client.llen("work.dead"), client.hlen("unacked")) == (0, 5)
        with pytest.raises(queue.Empty):  # a second lister sees nothing, for up to an hour
            queue.get(timeout=1)
        queue.close()
    assert [e["id"] for e in entries(fresh_redis.url)] == ids  # the hash store, read any number of times
    assert [e["id"] for e in entries(fresh_redis.url)] == ids
