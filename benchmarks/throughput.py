#!/usr/bin/env python3
"""Tasks per second through real workers: an app configured by `configure(app)` against the same app by hand.

    .venv/bin/python benchmarks/throughput.py [--tasks 1500] [--rounds 4]

Each variant gets its own private redis-server and one `celery worker` (prefork, concurrency 1),
started once. The hand-made variant has the same settings, routes, priority and retry behaviour
written out as plain Celery configuration. Rounds alternate between the variants; each round
publishes N no-op tasks (which count themselves in Redis) with the worker paused, then lets the
worker drain them. Printed: publish rate (the router is on this path), worker rate (the retry
wrapper is on this one), and the median ratio topology/hand of each (goal: >= 0.97).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import Process, RedisServer, start_worker, wait_for, worker_env  # noqa: E402

VARIANTS = ("topology", "hand")
TOPOLOGY = """version: 1
app: bench_app
broker: {url: "${CELERY_BROKER_URL}", result_backend: "${CELERY_RESULT_BACKEND}"}
defaults: {retry: {max_retries: 3, delay: 1, backoff: fixed, errors: [ConnectionError]}}
queues: {default: {}, work: {}}
routes: {"bench.*": work}
pools: {work: {queues: [work, default]}}
"""
BENCH_APP = """
import os

import redis
from celery import Celery
from kombu.entity import Exchange, Queue

from celery_topology import configure, load


def make_app(variant, broker, topology):
    app = Celery("bench_app", set_as_current=False)
    if variant == "topology":
        configure(app, load(topology, environ={"CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker}))
        retry = {}
    else:
        app.conf.update(
            broker_url=broker,
            result_backend=broker,
            broker_connection_retry_on_startup=True,
            task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in ("default", "work")],
            task_default_queue="default",
            task_default_exchange="default",
            task_default_exchange_type="direct",
            task_default_routing_key="default",
            task_create_missing_queues=False,
            task_routes=({"bench.*": {"queue": "work", "priority": 4}},),
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            broker_transport_options={"visibility_timeout": 3600, "priority_steps": list(range(10))},
            result_backend_transport_options={"visibility_timeout": 3600},
        )
        retry = {"autoretry_for": (ConnectionError,), "max_retries": 3, "default_retry_delay": 1, "retry_jitter": False}
    counter = redis.Redis.from_url(broker)

    @app.task(name="bench.noop", ignore_result=True, **retry)
    def noop(i):
        counter.incr("bench:done")

    return app


if "BENCH_VARIANT" in os.environ:  # a worker: `celery -A bench_app`
    app = make_app(os.environ["BENCH_VARIANT"], os.environ["CELERY_BROKER_URL"], os.environ["CELERY_TOPOLOGY_FILE"])
"""


def one_round(app: object, server: RedisServer, worker: Process, tasks: int) -> tuple[float, float]:
    """(publish rate, worker drain rate) for `tasks` no-op tasks.

    The worker's process group (ours, by its recorded pid) is paused with SIGSTOP while the
    producer publishes, so the two phases do not compete for the machine's two cores.
    """
    client = server.client()
    client.delete("bench:done")
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        start = time.perf_counter()
        for i in range(tasks):
            app.send_task("bench.noop", args=(i,), ignore_result=True)  # type: ignore[attr-defined]
        published = time.perf_counter()
    finally:
        os.killpg(worker.pid, signal.SIGCONT)
    wait_for(lambda: int(client.get("bench:done") or 0) >= tasks, 600, f"{tasks} tasks", interval=0.01)
    return tasks / (published - start), tasks / (time.perf_counter() - published)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        work = Path(scratch)
        (work / "bench_app.py").write_text(BENCH_APP)
        (work / "topology.yaml").write_text(TOPOLOGY)
        sys.path.insert(0, str(work))
        bench_app = importlib.import_module("bench_app")
        servers = {v: RedisServer(work) for v in VARIANTS}
        workers: dict[str, Process] = {}
        try:
            apps = {}
            for v in VARIANTS:
                env = worker_env(
                    servers[v].url, work / "topology.yaml", BENCH_VARIANT=v, PYTHONPATH=f"{work}:{ROOT / 'examples'}"
                )
                workers[v] = start_worker("bench_app", ["work"], f"{v}@bench", env, work / f"{v}.log")
                apps[v] = bench_app.make_app(v, servers[v].url, work / "topology.yaml")
            report(run(apps, servers, workers, args.tasks, args.rounds), args.tasks)
        finally:
            for process in workers.values():
                process.stop()
            for server in servers.values():
                server.stop()


def run(
    apps: dict[str, object], servers: dict[str, RedisServer], workers: dict[str, Process], tasks: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    for v in VARIANTS:  # warm-up
        one_round(apps[v], servers[v], workers[v], 200)
    results: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        for v in VARIANTS if r % 2 == 0 else reversed(VARIANTS):
            results[v].append(one_round(apps[v], servers[v], workers[v], tasks))
    return results


def report(results: dict[str, list[tuple[float, float]]], tasks: int) -> None:
    """Median and best round per variant; on a shared machine interference only slows a round, so best is steadier."""
    print(f"{tasks} tasks per round, {len(results['hand'])} rounds per variant")
    print(f"{'variant':>10} {'publish/s median':>17} {'best':>8} {'worker/s median':>16} {'best':>8}")
    for v in VARIANTS:
        publish, drain = [p for p, _ in results[v]], [d for _, d in results[v]]
        print(
            f"{v:>10} {statistics.median(publish):>17,.0f} {max(publish):>8,.0f}"
            f" {statistics.median(drain):>16,.0f} {max(drain):>8,.0f}"
        )
    for label, index in (("publish", 0), ("worker", 1)):
        ours, hand = ([r[index] for r in results[v]] for v in VARIANTS)
        ratios = [t / h for t, h in zip(ours, hand, strict=True)]
        print(
            f"ratio topology/hand, {label}: median of rounds {statistics.median(ratios):.3f},"
            f" best against best {max(ours) / max(hand):.3f} (rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
        )


if __name__ == "__main__":
    main()
