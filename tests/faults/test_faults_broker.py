"""The broker goes away: restarted with and without persistence, or not up yet when the worker starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import FAULT_TIMEOUT, Cluster
from support import RedisServer, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.timeout(FAULT_TIMEOUT)]


def restart(redis: RedisServer) -> None:
    """A clean restart (SIGTERM, then the same port and directory): what an operator or a failover does."""
    redis.stop()
    redis.start()


def test_redis_restart_with_persistence_loses_nothing(cluster: Cluster) -> None:
    cluster.start("main")
    sent = cluster.send("faults.alpha.work", 10, 1.0)
    wait_for(lambda: len(cluster.running()) >= 2, 60, "tasks running")
    restart(cluster.redis)
    outcome = cluster.settle("redis restart, persistence on", sent, timeout=180)
    assert outcome.lost == []
    assert "main-2.log" not in {p.name for p in cluster.work.iterdir()}  # the same worker reconnected by itself
    assert len(outcome.duplicated) <= 2, outcome.duplicated  # at most the runs in flight, whose acks were cut
    assert "redis-no-persistence" not in cluster.doctor()


def test_redis_restart_without_persistence_loss_is_detected(tmp_path: Path, fresh_redis: RedisServer) -> None:
    cluster = Cluster(tmp_path, fresh_redis)
    try:
        queued = cluster.send("faults.alpha.work", 10, 0.2)  # waiting for a worker
        flagged = cluster.doctor()
        restart(fresh_redis)
        cluster.start("main")
        later = cluster.send("faults.alpha.work", 2, 0.2, start=10)
        cluster.drain("redis restart, persistence off", later)  # the broker works again...
        outcome = cluster.record("redis restart, persistence off", queued + later)
    finally:
        cluster.stop_all()
    assert (outcome.sent, outcome.done, outcome.lost) == (12, 2, queued)  # ...and the ledger shows the loss
    assert "redis-no-persistence" in flagged  # which doctor said before the restart


def test_a_worker_started_before_the_broker_connects_when_it_comes_up(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path, persistence=True, start=False)
    cluster = Cluster(tmp_path, redis)
    try:
        worker = cluster.start("solo", wait=False)
        worker.wait_for_output("Cannot connect to redis://", 60)
        redis.start()
        worker.wait_for_output(" ready.", 120)
        sent = cluster.send("faults.gamma.work", 3, 0.1)
        cluster.settle("worker up before the broker", sent)
    finally:
        cluster.stop_all()
        redis.stop()
