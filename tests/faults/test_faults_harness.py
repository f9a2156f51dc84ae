"""The fault harness itself: a scenario too slow for its wait still reports, before pytest-timeout ends it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import FAULT_TIMEOUT, REPORT, Cluster
from support import RedisServer

pytestmark = [pytest.mark.fault, pytest.mark.timeout(FAULT_TIMEOUT)]


def test_a_settle_that_gives_up_still_records_what_was_lost(tmp_path: Path, fresh_redis: RedisServer) -> None:
    cluster = Cluster(tmp_path, fresh_redis)  # no worker: nothing sent can be done
    sent = cluster.send("faults.alpha.work", 2, 0.1)
    rows = len(REPORT)
    try:
        with pytest.raises(AssertionError) as failed:
            cluster.settle("nobody consumes", sent, timeout=1)
        added = REPORT[rows:]
    finally:
        del REPORT[rows:]  # not a scenario of the suite's report
    assert added == [
        {"scenario": "nobody consumes", "sent": 2, "done": 0, "lost": 2, "duplicated": 0}
        | {
            "interrupted": 0,
            "residue": 2,
        }
    ]
    assert "lost 2 of 2: ['faults.alpha.work-0', 'faults.alpha.work-1']" in str(failed.value)


def test_every_wait_of_the_harness_ends_before_pytest_timeout(
    tmp_path: Path, fresh_redis: RedisServer, request: pytest.FixtureRequest
) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None and marker.args == (FAULT_TIMEOUT,)
    cluster = Cluster(tmp_path, fresh_redis)
    started = time.monotonic()
    longest = cluster.budget(10 * FAULT_TIMEOUT)  # what the soak's settle asks for, cut by the harness
    assert longest + 30 < FAULT_TIMEOUT - (time.monotonic() - started)  # + the empty-broker wait
