#!/usr/bin/env python3
"""What one GET /metrics costs a cluster of 4 pools: broker round trips and broadcasts per scrape.

    .venv/bin/python benchmarks/metrics.py [--scrapes 20]

A private redis-server, one real `celery worker` per pool (4 pools, 5 queues, 10 priority lists
each), and the metrics endpoint in this process (the same Starlette app `serve` runs, called over
ASGI). Round trips are counted where redis-py writes a command (a pipeline is one write): every
Redis exchange of the scrape, kombu's broadcast and its replies included. Broadcasts are counted at
`Control.broadcast`. Printed: a scrape that broadcasts (cache expired), a scrape served from the
cache, and `--scrapes` scrapes fired at once within one second: how many broadcast rounds they caused.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import redis.connection  # noqa: E402
from celery.app.control import Control  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from celery_topology import load  # noqa: E402
from celery_topology.cluster.health import standalone_app  # noqa: E402

from support import Process, RedisServer, start_worker, worker_env  # noqa: E402

APP = "agentic_clinical_assistant.workers.celery_app"
TOPOLOGY = f"""version: 1
app: {APP}
broker: {{url: "${{CELERY_BROKER_URL}}", result_backend: "${{CELERY_RESULT_BACKEND}}"}}
defaults: {{max_wait: 1m}}
queues: {{default: {{}}, agent: {{}}, ingestion: {{}}, evaluation: {{}}, benchmark: {{}}}}
pools:
  default: {{queues: [default], hostname: default@bench}}
  agent: {{queues: [agent], hostname: agent@bench}}
  ingestion: {{queues: [ingestion], hostname: ingestion@bench}}
  evaluation: {{queues: [evaluation, benchmark], hostname: evaluation@bench}}
"""
POOLS = {
    "default": ["default"],
    "agent": ["agent"],
    "ingestion": ["ingestion"],
    "evaluation": ["evaluation", "benchmark"],
}
BROADCASTS_PER_ROUND = 6  # ping, active_queues, active, reserved, scheduled, stats


class Counter:
    """Counts calls of a method on its class (a wrapper that changes nothing else)."""

    def __init__(self, cls: Any, name: str) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        original: Callable[..., Any] = getattr(cls, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls += 1
            return original(*args, **kwargs)

        setattr(cls, name, counted)


def measured(scrape: Callable[[], None], trips: Counter, casts: Counter) -> tuple[int, int, float]:
    trips_0, casts_0, start = trips.calls, casts.calls, time.perf_counter()
    scrape()
    return trips.calls - trips_0, casts.calls - casts_0, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=20)
    args = parser.parse_args()
    trips = Counter(redis.connection.AbstractConnection, "send_packed_command")
    casts = Counter(Control, "broadcast")
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as scratch:
        work = Path(scratch)
        server = RedisServer(work)
        (work / "topology.yaml").write_text(TOPOLOGY)
        env = worker_env(server.url, work / "topology.yaml")
        workers: list[Process] = []
        try:
            for pool, queues in POOLS.items():
                workers.append(start_worker(APP, queues, f"{pool}@bench", env, work / f"{pool}.log"))
            topology = load(work / "topology.yaml", environ=env)
            with TestClient(standalone_app(topology, timeout=1.0, cache=2.0)) as client:
                report(client, trips, casts, args.scrapes)
        finally:
            for worker in workers:
                worker.stop()
            server.stop()


def report(client: TestClient, trips: Counter, casts: Counter, scrapes: int) -> None:
    def scrape() -> None:
        assert client.get("/metrics").status_code == 200

    scrape()  # connections made, warm
    time.sleep(2.1)
    cold = measured(scrape, trips, casts)
    warm = measured(scrape, trips, casts)
    time.sleep(2.1)
    health = measured(lambda: client.get("/workers/health"), trips, casts)
    print("4 pools, 5 queues, 10 priority lists each; one real worker per pool; serve --timeout 1 --cache 2")
    print(f"{'scrape':>34} {'redis round trips':>18} {'broadcasts':>11} {'seconds':>8}")
    for label, (t, b, s) in (
        ("/metrics, cache expired", cold),
        ("/metrics, from the cache", warm),
        ("/workers/health, cache expired", health),
    ):
        print(f"{label:>34} {t:>18} {b:>11} {s:>8.3f}")
    time.sleep(2.1)
    gate = threading.Barrier(scrapes)

    def one() -> None:
        gate.wait()
        scrape()

    casts_0, start = casts.calls, time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(scrapes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rounds = (casts.calls - casts_0) / BROADCASTS_PER_ROUND
    print(
        f"{scrapes} scrapes fired at once: {casts.calls - casts_0} broadcasts = {rounds:g} round(s), all answered in {time.perf_counter() - start:.2f}s"
    )


if __name__ == "__main__":
    main()
