"""Beat's settings inside the process, and a record of which beat holds RedBeat's lock.

`configure(app)` sets the scheduler and, for redbeat, every lock setting explicitly (never
RedBeat's 25-minute defaults), so a `celery beat` started by hand behaves as the rendered units.
RedBeat's lock holds only a random token; the beat that takes it records its host and pid beside
it (`<prefix>:lock-holder`, with the token), which `celery-topology status` shows.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from ..topology.beatlock import holder_key, is_locking, key_prefix, lock_timeout, max_loop_interval, scheduler_path
from ..topology.model import Topology
from .store import redis_py_url

if TYPE_CHECKING:
    from celery import Celery

INSTALL_REDBEAT = (
    "beat.scheduler is redbeat, but celery-redbeat is not installed here:"
    " install celery-topology[redbeat] (pip install 'celery-topology[redbeat]')"
)


def redbeat_installed() -> bool:
    try:
        import redbeat  # noqa: F401
    except ImportError:
        return False
    return True


def beat_settings(topology: Topology) -> dict[str, Any]:
    """Celery's beat_scheduler and beat_max_loop_interval, and for redbeat its Redis, lock timeout and key prefix."""
    beat = topology.beat
    if beat is None:
        return {}
    settings: dict[str, Any] = {}
    if beat.scheduler != "celery":
        settings["beat_scheduler"] = scheduler_path(beat)
    loop = max_loop_interval(beat)
    if loop is not None:
        settings["beat_max_loop_interval"] = loop
    if is_locking(beat) and topology.redis_url is not None:  # validate refuses redbeat without a Redis
        settings.update(
            redbeat_redis_url=redis_py_url(topology.redis_url),  # RedBeat hands it to redis-py as is
            redbeat_redis_options={},  # not the broker's transport options (RedBeat's deprecated fallback)
            redbeat_lock_timeout=lock_timeout(beat),
            redbeat_key_prefix=key_prefix(topology),
        )
    return settings


def install(app: Celery, topology: Topology) -> None:
    """With redbeat: when this process's beat has taken the lock, record who it is (host, pid, since)."""
    if topology.beat is None or not is_locking(topology.beat):
        return
    try:
        import redbeat.schedulers  # noqa: F401 - connects RedBeat's beat_init receiver (it takes the lock) before ours
    except ImportError as exc:
        raise ImportError(f"{INSTALL_REDBEAT}; every process that loads this app's configuration needs it") from exc
    from celery.signals import beat_init

    key = holder_key(topology)

    def record_holder(sender: Any = None, **kwargs: Any) -> None:
        from redbeat.schedulers import get_redis

        lock = getattr(sender.scheduler, "lock", None)
        token = getattr(getattr(lock, "local", None), "token", None)
        if token is None:
            return
        token = token.decode() if isinstance(token, bytes) else str(token)
        holder = {"token": token, "hostname": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
        get_redis(sender.scheduler.app).set(key, json.dumps(holder))

    beat_init.connect(record_holder, weak=False, dispatch_uid=f"celery-topology.beat-holder.{key}")
