from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import MermaidParser, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private redis-server for the session; tests that need a clean one flush it or use `fresh_redis`."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def fresh_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mermaid_parser() -> Iterator[MermaidParser]:
    parser = MermaidParser()
    yield parser
    parser.close()
