"""A retry delay longer than the visibility timeout: refused by validation, and why (it runs the task twice)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from celery_topology import Topology

from harness import FAULT_TIMEOUT, VISIBILITY_TIMEOUT, Cluster, topology_document
from support import RedisServer, run_cli, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.timeout(FAULT_TIMEOUT)]

DELAY = 3 * VISIBILITY_TIMEOUT


def long_retry_document(work: Path) -> dict[str, object]:
    document = topology_document(work)
    document["defaults"] = {
        "retry": {"max_retries": 1, "delay": DELAY, "backoff": "fixed", "errors": ["ConnectionError"]}
    }
    return document


def test_validation_refuses_a_retry_delay_longer_than_the_visibility_timeout(tmp_path: Path) -> None:
    Cluster.write_topology(tmp_path, long_retry_document(tmp_path), "redis://127.0.0.1:1/0")
    result = run_cli(
        "--file", tmp_path / "topology.yaml", "validate", env={"CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}
    )
    assert result.returncode == 1
    assert (
        f"defaults.retry: a retry waits up to {DELAY}s, longer than the Redis visibility timeout: the task would run twice"
        in result.stdout
    )


def test_what_it_prevents_a_retry_waiting_past_the_visibility_timeout_runs_twice(
    tmp_path: Path, fresh_redis: RedisServer
) -> None:
    """Built without the check (a bare model), the retry's ETA message outlives the visibility timeout,
    so the next worker to start restores it while the first still holds it: both run it.

    Kombu restores such a message when a worker's consumer starts (and then only every ~100 s), so the
    second worker starts once the held message is older than the timeout, read from the broker's
    unacked index, not after a fixed sleep that a loaded machine can outrun."""
    document = long_retry_document(tmp_path)
    unchecked = Topology.model_validate({**document, "broker": {**document["broker"], "url": fresh_redis.url}})  # type: ignore[dict-item]
    cluster = Cluster(tmp_path, fresh_redis, document, unchecked, FAULT_UNCHECKED="1")
    client = fresh_redis.client()

    def held_for() -> float:
        """Seconds the oldest unacked message has been held by a worker (0 when none is held)."""
        held = client.zrange("unacked_index", 0, 0, withscores=True)
        return time.time() - held[0][1] if held else 0.0

    try:
        cluster.start("main")
        task_id = cluster.producer.send_task("faults.flaky", task_id="faults.flaky-0").id
        wait_for(lambda: any(e["event"] == "failed" for e in cluster.events()), 60, "the first attempt")
        wait_for(lambda: held_for() > VISIBILITY_TIMEOUT + 1, DELAY, "the retry held past the visibility timeout")
        cluster.start("main", replica=2)  # a second worker of the pool (scale-up, restart, another host)
        wait_for(lambda: cluster.outcome("", [task_id]).duplicated, 3 * DELAY, "the retry run twice")
        outcome = cluster.settle("retry delay > visibility timeout (unchecked)", [task_id], timeout=3 * DELAY)
    finally:
        cluster.stop_all()
    assert outcome.duplicated == [task_id]
    retries = [e["retries"] for e in cluster.events() if e["event"] == "done"]
    assert retries == [1, 1]  # the same retry message, run by both workers
