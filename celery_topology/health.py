"""`from celery_topology.health import workers_app`: the import path documented before the package
was grouped by stage, kept so that existing mounts go on working. The code is in `cluster.health`."""

from __future__ import annotations

from .cluster.health import standalone_app, workers_app

__all__ = ["standalone_app", "workers_app"]
