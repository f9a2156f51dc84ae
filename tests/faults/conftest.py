"""The fault suite's fixtures and its report, printed at the end of every run that executed a scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import REPORT, Cluster, report_lines
from support import RedisServer


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, persistence=True)
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path: Path, persistent_redis: RedisServer) -> Iterator[Cluster]:
    """The fault topology on its own persistent redis-server; every worker still running is stopped after."""
    work = tmp_path / "work"
    work.mkdir()
    running = Cluster(work, persistent_redis)
    yield running
    running.stop_all()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("fault suite: tasks per scenario (from the ledger outside the broker)")
        for line in report_lines(REPORT):
            terminalreporter.write_line(line)
