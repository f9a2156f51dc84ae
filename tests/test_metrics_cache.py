"""Broadcasts are cached: 20 scrapes in a second (with /workers/health among them) cost one broadcast round.

The broadcasts are counted on the real Redis: a subscriber to Celery's pidbox fanout channel sees
every control message sent to the workers (ping, active_queues, active, reserved, scheduled, stats:
six per round).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis

from support import APP, BIN, EXAMPLE_HEAD, Process, RedisServer, free_port, start_worker, wait_for, worker_env

TOPOLOGY = (
    EXAMPLE_HEAD
    + """\
queues: {default: {}}
pools: {default: {queues: [default], hostname: default@cache}}
"""
)
ROUND = 6  # broadcasts per look at the workers


class Broadcasts:
    """Counts the control messages published on the pidbox fanout channel."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client  # kept: a collected client closes its pool, the subscription with it
        self.pubsub = client.pubsub()
        self.pubsub.psubscribe("*pidbox*")
        wait_for(lambda: self.pubsub.get_message(timeout=0.1) is not None, 30, "the subscription")
        self.count = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stopping.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "pmessage":
                self.count += 1

    def settle(self) -> int:
        """The count once no message arrived for a second."""
        last = -1
        while last != self.count:
            last = self.count
            self.stopping.wait(1.0)
        return self.count

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.pubsub.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RedisServer, dict[str, str], Path]]:
    server = RedisServer(tmp_path)
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    env = worker_env(server.url, tmp_path / "topology.yaml")
    worker = start_worker(APP, ["default"], "default@cache", env, tmp_path / "worker.log")
    yield server, env, tmp_path
    worker.stop()
    server.stop()


def serve(env: dict[str, str], tmp: Path, cache: str) -> tuple[Process, str]:
    port = free_port()
    argv = [str(BIN / "celery-topology"), "--file", "topology.yaml", "serve", "--port", str(port), "--timeout", "2"]
    process = Process([*argv, "--cache", cache], tmp / f"serve-{cache}.log", env=env, cwd=tmp)
    process.wait_for_output("Uvicorn running on", 60)
    return process, f"http://127.0.0.1:{port}"


def test_twenty_scrapes_in_a_second_cost_one_broadcast_round(cluster: tuple[RedisServer, dict[str, str], Path]) -> None:
    server, env, tmp = cluster
    broadcasts = Broadcasts(server.client())
    status = [str(BIN / "celery-topology"), "--file", "topology.yaml", "status", "--timeout", "2"]
    wait_for(lambda: subprocess.run(status, env=env, cwd=tmp, capture_output=True).returncode == 0, 120, "healthy")
    before = broadcasts.settle()
    process, base = serve(env, tmp, "30")
    try:
        paths = ["/metrics"] * 15 + ["/workers/health"] * 5
        start = threading.Barrier(len(paths))

        def get(path: str) -> httpx.Response:
            start.wait()  # all twenty leave together, within the same second
            return httpx.get(base + path, timeout=60)

        with ThreadPoolExecutor(len(paths)) as pool:
            answers = list(pool.map(get, paths))
        assert [a.status_code for a in answers] == [200] * 20, httpx.get(base + "/workers/stats", timeout=60).text
        assert all('celery_topology_pool_workers{pool="default"} 1.0' in a.text for a in answers[:15])
        assert broadcasts.settle() - before == ROUND
    finally:
        process.stop()

    process, base = serve(env, tmp, "0")  # the counter does count: without the cache, each scrape is a round
    try:
        before = broadcasts.settle()
        for _ in range(3):
            assert httpx.get(base + "/metrics", timeout=60).status_code == 200
        assert broadcasts.settle() - before == 3 * ROUND
    finally:
        process.stop()
        broadcasts.close()
