"""A soak: a few hundred tasks across every pool while workers are killed and restarted at random (seeded)."""

from __future__ import annotations

import collections
import os
import random
import signal
import time

import pytest

from harness import FAULT_TIMEOUT, VISIBILITY_TIMEOUT, Cluster

pytestmark = [pytest.mark.fault, pytest.mark.timeout(FAULT_TIMEOUT)]

SEED = 6
ROUNDS = 6
PER_ROUND = 50
TASKS = ("faults.alpha.work", "faults.beta.work", "faults.gamma.work", "faults.other.work")
FAULTS = ("sigterm", "kill-child", "kill-worker")


def inject(cluster: Cluster, pool: str, fault: str) -> str:
    """Apply `fault` to `pool` and restart it the way its unit would; returns what was done."""
    children = cluster.busy_children(pool)
    if fault == "kill-child" and cluster.topology.pools[pool].pool == "prefork" and children:
        os.kill(children[0], signal.SIGKILL)  # the worker replaces the child and requeues its task
        return fault
    if fault == "sigterm":
        cluster.stop(pool, signal.SIGTERM)
    else:
        cluster.kill(pool)
        time.sleep(VISIBILITY_TIMEOUT)  # so the restarted worker restores what the dead one held
        fault = "kill-worker"
    cluster.start(pool)
    return fault


def test_soak_with_random_kills_and_restarts(cluster: Cluster) -> None:
    rng = random.Random(SEED)
    cluster.start_all()
    sent: list[str] = []
    faults: list[str] = []
    for round_ in range(ROUNDS):
        for i in range(PER_ROUND):
            sent += cluster.send(rng.choice(TASKS), 1, rng.uniform(0.05, 0.4), start=round_ * PER_ROUND + i)
        time.sleep(rng.uniform(0.5, 2))
        faults.append(inject(cluster, rng.choice(sorted(cluster.topology.pools)), rng.choice(FAULTS)))
    summary = ", ".join(f"{n} {fault}" for fault, n in sorted(collections.Counter(faults).items()))
    outcome = cluster.settle(f"soak (seed {SEED}: {summary})", sent, timeout=FAULT_TIMEOUT)  # the harness cuts it
    assert outcome.lost == []
    assert cluster.wrong_pool_runs() == []
    concurrency = max(p.concurrency or 1 for p in cluster.topology.pools.values())
    assert len(outcome.duplicated) <= len(faults) * concurrency, (faults, outcome.duplicated)
    assert {e["host"].split("@")[0] for e in cluster.events()} == set(cluster.topology.pools)  # every pool worked
