"""`GET /workers/health` and `GET /workers/stats` as a Starlette app (the `serve` extra).

Mount it into an existing FastAPI/Starlette app with one line:

    app.mount("/workers", celery_topology.workers_app())

or run it alone with `celery-topology serve`. Health is the same judgement as
`celery-topology status`; 503 when unhealthy, so a load balancer or probe can use it.
`GET /metrics` is the same look in Prometheus' text format (`metrics.py`). The endpoints are
plain functions: Starlette runs them in its thread pool; the workers' answers to a broadcast are
shared by all of them for `cache` seconds (`looker.py`), queue depth and age are read fresh.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..topology.environments import selected
from ..topology.model import Topology
from ..topology.validate import load, topology_path
from .looker import DEFAULT_CACHE, Looker
from .metrics import CONTENT_TYPE, metrics_text


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


def workers_app(
    topology: Topology | str | os.PathLike[str] | None = None, timeout: float = 1.0, cache: float = DEFAULT_CACHE
) -> Starlette:
    """The endpoints, at /health, /stats and /metrics of wherever the app is mounted (conventionally /workers)."""
    if not isinstance(topology, Topology):
        topology = load(topology_path(topology), env=selected())  # the path given, else $CELERY_TOPOLOGY_FILE, ...
    return _app(Looker(topology, timeout, cache))


def _app(looker: Looker) -> Starlette:

    def health(request: Request) -> JSONResponse:
        report, obs = looker.look()
        return JSONResponse(health_body(report, sorted(obs.workers)), status_code=200 if report["healthy"] else 503)

    def stats(request: Request) -> JSONResponse:
        report, obs = looker.look()
        return JSONResponse(stats_body(report, {name: view.stats for name, view in obs.workers.items()}))

    return Starlette(routes=[Route("/health", health), Route("/stats", stats), metrics_route(looker)])


def metrics_route(looker: Looker, path: str = "/metrics") -> Route:
    def metrics(request: Request) -> Response:
        return Response(metrics_text(looker), media_type=CONTENT_TYPE)

    return Route(path, metrics)


def standalone_app(topology: Topology, timeout: float = 1.0, cache: float = DEFAULT_CACHE) -> Starlette:
    """What `celery-topology serve` runs: the endpoints under /workers, and /metrics where Prometheus looks."""
    looker = Looker(topology, timeout, cache)
    return Starlette(routes=[metrics_route(looker), Mount("/workers", app=_app(looker))])
