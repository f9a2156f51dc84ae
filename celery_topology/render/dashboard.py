"""A Grafana dashboard made of the file: the cluster on top, then one row per pool with its workers and its queues' depth and wait."""

from __future__ import annotations

import json
from typing import Any

from ..topology.model import Topology

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
WIDTH = 24  # Grafana's grid
HEIGHT = 7


def _target(expr: str, legend: str, ref: int) -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
        "refId": chr(ord("A") + ref % 26) * (1 + ref // 26),
    }


def _panel(title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int, width: int) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": width, "h": HEIGHT},
        "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
        "targets": [_target(expr, legend, i) for i, (expr, legend) in enumerate(exprs)],
    }


def _selector(label: str, value: str) -> str:
    return f"{{{label}={json.dumps(value, ensure_ascii=False)}}}"


def _pool_row(topology: Topology, pool: str, y: int) -> list[dict[str, Any]]:
    p, queues = _selector("pool", pool), topology.pools[pool].queues
    row = {
        "type": "row",
        "title": f"pool {pool}: {', '.join(queues)}",
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": WIDTH, "h": 1},
        "panels": [],
    }
    workers = [(f"celery_topology_pool_workers{p}", "online"), (f"celery_topology_pool_workers_min{p}", "min_workers")]
    workers.append((f"celery_topology_tasks_running{p}", "tasks running"))
    depth = [(f"celery_topology_queue_depth{_selector('queue', q)}", q) for q in queues]
    depth += [(f"celery_topology_queue_max_depth{_selector('queue', q)}", f"{q} max_depth") for q in queues]
    wait = [(f"celery_topology_queue_oldest_age_seconds{_selector('queue', q)}", q) for q in queues]
    wait += [(f"celery_topology_queue_max_wait_seconds{_selector('queue', q)}", f"{q} max_wait") for q in queues]
    third = WIDTH // 3
    return [
        row,
        _panel("workers and tasks running", workers, "short", 0, y + 1, third),
        _panel("queue depth (every priority)", depth, "short", third, y + 1, third),
        _panel("oldest waiting task", wait, "s", 2 * third, y + 1, third),
    ]


def dashboard(topology: Topology) -> dict[str, Any]:
    """What `dashboard.json.j2` fills in: the panels as JSON text."""
    third = WIDTH // 3
    panels = [
        _panel("broker up", [("celery_topology_broker_up", "up")], "short", 0, 0, third),
        _panel("dead letters", [("celery_topology_dead_letters", "{{queue}}")], "short", third, 0, third),
        _panel("topology checksum served", [("celery_topology_info", "{{checksum}}")], "short", 2 * third, 0, third),
    ]
    for i, pool in enumerate(topology.pools):
        panels += _pool_row(topology, pool, HEIGHT + i * (HEIGHT + 1))
    for number, panel in enumerate(panels, 1):
        panel["id"] = number
    return {"panels": json.dumps(panels, indent=2, ensure_ascii=False)}
