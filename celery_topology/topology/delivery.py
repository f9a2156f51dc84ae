"""The delivery settings celery-topology fills in when the app does not set them: at-least-once and fair.

Celery's own defaults ack a task when it starts (a worker killed mid-task loses it) and prefetch
four messages per process (which defeats priorities). `configure(app)` sets these only where the
app's own configuration has not: a value the app sets itself wins, and `show` says so.
"""

from __future__ import annotations

from typing import Any

SAFE_DEFAULTS: dict[str, Any] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
}
SAFE_DEFAULT_SOURCE = "celery-topology safe default (a value the app sets itself wins)"
