"""`GET /workers/health` and `GET /workers/stats` as a Starlette app (the `serve` extra).

Mount it into an existing FastAPI/Starlette app with one line:

    app.mount("/workers", celery_topology.workers_app())

or run it alone with `celery-topology serve`. Health is the same judgement as
`celery-topology status`; 503 when unhealthy, so a load balancer or probe can use it.
The endpoints are plain functions: Starlette runs them in its thread pool, and one lock
keeps concurrent requests from broadcasting to the workers at the same time.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from ..topology.environments import selected
from ..topology.model import Topology
from ..topology.validate import load, topology_path
from .assess import Observation, assess
from .observe import make_app, observe


class Looker:
    """One look at the cluster at a time, through one Celery app made from the topology."""

    def __init__(self, topology: Topology, timeout: float) -> None:
        self.topology = topology
        self.timeout = timeout
        self.app = make_app(topology)
        self.lock = threading.Lock()

    def look(self) -> tuple[dict[str, Any], Observation]:
        with self.lock:
            obs = observe(self.topology, self.timeout, self.app)
        return assess(self.topology, obs), obs


def health_body(report: dict[str, Any], workers: list[str]) -> dict[str, Any]:
    """The seed's shape: status, workers_online, workers."""
    status = "healthy" if report["healthy"] else "unhealthy"
    return {"status": status, "workers_online": len(workers), "workers": workers}


def stats_body(report: dict[str, Any], stats: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-worker statistics and per-queue depth, and the findings behind the status."""
    workers = {name: {**info, **stats.get(name, {})} for name, info in report["workers"].items()}
    return {
        "status": "healthy" if report["healthy"] else "unhealthy",
        "workers": workers,
        "queues": report["queues"],
        "findings": report["findings"],
    }


def workers_app(topology: Topology | str | os.PathLike[str] | None = None, timeout: float = 1.0) -> Starlette:
    """The endpoints, at /health and /stats of wherever the app is mounted (conventionally /workers)."""
    if not isinstance(topology, Topology):
        topology = load(topology_path(topology), env=selected())  # the path given, else $CELERY_TOPOLOGY_FILE, ...
    looker = Looker(topology, timeout)

    def health(request: Request) -> JSONResponse:
        report, obs = looker.look()
        return JSONResponse(health_body(report, sorted(obs.workers)), status_code=200 if report["healthy"] else 503)

    def stats(request: Request) -> JSONResponse:
        report, obs = looker.look()
        return JSONResponse(stats_body(report, {name: view.stats for name, view in obs.workers.items()}))

    return Starlette(routes=[Route("/health", health), Route("/stats", stats)])


def standalone_app(topology: Topology, timeout: float = 1.0) -> Starlette:
    """What `celery-topology serve` runs: the endpoints under /workers."""
    return Starlette(routes=[Mount("/workers", app=workers_app(topology, timeout))])
