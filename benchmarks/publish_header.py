#!/usr/bin/env python3
"""What the publish-time header costs: the same configured app and worker, with and without the stamp.

    .venv/bin/python benchmarks/publish_header.py [--rounds 30] [--tasks 300]

`benchmarks/throughput.py`'s app and topology, one private redis-server and one real `celery worker`
(prefork, concurrency 1) running the topology variant. Rounds alternate between the router as shipped
(queue, priority, publish-time header) and the same router with the header left out, so a loaded
machine slows both alike; each round publishes with the worker paused, then lets it drain (as
throughput.py does). Printed: median publish and drain rates of each, and the per-round ratios
stamped/unstamped.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from throughput import BENCH_APP, TOPOLOGY, one_round  # noqa: E402

from support import RedisServer, start_worker, worker_env  # noqa: E402

VARIANTS = ("stamped", "unstamped")


def unstamped(router: Any) -> Any:
    """The same answer without the header."""

    def route(name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = router(name, *args, **kwargs)
        del answer["headers"]
        return answer

    return route


def use(app: Any, routes: Any) -> None:
    app.conf.task_routes = routes
    app.amqp.flush_routes()  # Celery reads task_routes once, then keeps its router
    app.amqp.router = app.amqp.Router()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-header-") as scratch:
        work = Path(scratch)
        (work / "bench_app.py").write_text(BENCH_APP)
        (work / "topology.yaml").write_text(TOPOLOGY)
        sys.path.insert(0, str(work))
        bench_app = importlib.import_module("bench_app")
        server = RedisServer(work)
        env = worker_env(server.url, work / "topology.yaml", BENCH_VARIANT="topology", PYTHONPATH=f"{work}")
        worker = start_worker("bench_app", ["work"], "header@bench", env, work / "worker.log")
        try:
            app = bench_app.make_app("topology", server.url, work / "topology.yaml")
            routes = {"stamped": app.conf.task_routes, "unstamped": (unstamped(app.conf.task_routes[0]),)}
            results: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
            one_round(app, server, worker, 100)  # warm-up
            for n in range(args.rounds):
                for variant in VARIANTS if n % 2 == 0 else VARIANTS[::-1]:
                    use(app, routes[variant])
                    results[variant].append(one_round(app, server, worker, args.tasks))
        finally:
            worker.stop()
            server.stop()
    report(results, args)


def report(results: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    print(f"{args.rounds} rounds of {args.tasks} tasks per variant, alternating, one worker")
    for label, index in (("publish", 0), ("worker", 1)):
        stamped, plain = ([r[index] for r in results[v]] for v in VARIANTS)
        ratios = sorted(s / p for s, p in zip(stamped, plain, strict=True))
        print(
            f"{label}/s median: stamped {statistics.median(stamped):,.0f}, unstamped {statistics.median(plain):,.0f};"
            f" per-round ratio stamped/unstamped median {statistics.median(ratios):.3f}"
            f" (quartiles {ratios[len(ratios) // 4]:.3f}, {ratios[3 * len(ratios) // 4]:.3f})"
        )


if __name__ == "__main__":
    main()
