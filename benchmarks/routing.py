#!/usr/bin/env python3
"""Routing lookups per second: celery-topology's compiled router against Celery's own glob `task_routes`.

    .venv/bin/python benchmarks/routing.py

Both sides go through Celery's real `app.amqp.router.route()` (what every send does) with the same
ordered patterns; the only difference is the `task_routes` entry. `cold` is the compiled router
without its per-name cache (as if every name were seen for the first time). Each figure is the
best of 3 interleaved rounds. Ratios > 1 mean faster than Celery.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from celery import Celery

from celery_topology import celery_settings
from celery_topology.topology.model import Topology
from celery_topology.topology.routing import Router

SIZES = (5, 50, 500, 5000)
QUEUES = ("default", "q1", "q2", "q3", "q4")
BUDGET = 0.25  # seconds of measuring per figure and round
ROUNDS = 3


def patterns(n: int) -> dict[str, dict[str, Any]]:
    """`n` routes in file order: module globs, a few exact names and some `?` patterns."""
    routes: dict[str, dict[str, Any]] = {}
    for i in range(n):
        key = f"acme.service{i}.tasks.*" if i % 10 else f"acme.service{i}.tasks.job?"
        routes[key] = {"queue": QUEUES[1 + i % 4], "priority": i % 10}
    return routes


def names(n: int, count: int, rng: random.Random) -> list[str]:
    """Task names spread over all patterns, one in ten matching none."""
    picked = []
    for _ in range(count):
        i = rng.randrange(n)
        picked.append(f"acme.service{i}.tasks.job{rng.randrange(10)}" if rng.random() > 0.1 else f"other.job{i}")
    return picked


def rate(lookup: Callable[[str], object], task_names: list[str]) -> float:
    """Lookups per second over `task_names`, repeated until the time budget is spent."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < BUDGET:
        for name in task_names:
            lookup(name)
        done += len(task_names)
    return done / (time.perf_counter() - start)


def topology(routes: dict[str, dict[str, Any]]) -> Topology:
    body = {"version": 1, "app": "bench", "broker": {"url": "redis://127.0.0.1:6379/0"}}
    return Topology.model_validate(
        {**body, "queues": {q: {} for q in QUEUES}, "routes": routes, "pools": {"all": {"queues": list(QUEUES)}}}
    )


def measure(n: int, rng: random.Random) -> tuple[float, float, float]:
    """Lookups per second: Celery's glob routes, ours (cached), ours without the cache."""
    routes, task_names = patterns(n), names(n, 2000, rng)
    compiled = topology(routes)
    apps = {kind: Celery(kind, set_as_current=False) for kind in ("celery", "ours", "cold")}
    apps["celery"].conf.update(celery_settings(compiled), task_routes=(routes,))
    apps["ours"].conf.update(celery_settings(compiled))
    apps["cold"].conf.update(celery_settings(compiled, Router(compiled, cache_size=0)))
    best = dict.fromkeys(apps, 0.0)
    for _ in range(ROUNDS):  # interleaved: a slow moment of a loaded machine hits every side alike
        for kind, app in apps.items():
            best[kind] = max(best[kind], rate(lambda name, app=app: app.amqp.router.route({}, name), task_names))
    return best["celery"], best["ours"], best["cold"]


def main() -> None:
    rng = random.Random(7)
    print(f"{'patterns':>8} {'celery/s':>12} {'ours/s':>12} {'ratio':>8} {'ours cold/s':>12} {'cold ratio':>10}")
    for n in SIZES:
        celery_rate, warm_rate, cold_rate = measure(n, rng)
        print(
            f"{n:>8} {celery_rate:>12,.0f} {warm_rate:>12,.0f} {warm_rate / celery_rate:>8.1f}"
            f" {cold_rate:>12,.0f} {cold_rate / celery_rate:>10.1f}"
        )


if __name__ == "__main__":
    main()
