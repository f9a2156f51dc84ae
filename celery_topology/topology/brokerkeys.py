"""Where a queue's messages wait on the broker, computed the way kombu computes it. Pure: no kombu import.

Used by the live cluster (queue depth) and by the Kubernetes renderer (one KEDA trigger per list),
so both read exactly the keys the workers consume from.

On Redis kombu keeps a queue in one list per priority step (`Channel._q_for_pri`): `queue` for
step 0, else `queue + sep + step`, every key behind `global_keyprefix`; the lists live in the
database the broker URL names (`redis://host:6379/3` -> 3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .model import Topology

PRIORITY_LEVELS = 10  # 0..9 in the file; Redis gets one priority step per level
KOMBU_PRIORITY_STEPS = [0, 3, 6, 9]  # kombu.transport.redis.PRIORITY_STEPS
KOMBU_SEP = "\x06\x16"  # kombu.transport.redis.Channel.sep


def redis_queue_lists(queue: str, options: dict[str, Any]) -> list[tuple[int, str]]:
    """(priority step, key) of every Redis list kombu keeps `queue` in (`options`: the broker transport options)."""
    steps = sorted(set(options.get("priority_steps", KOMBU_PRIORITY_STEPS)))
    sep = options.get("sep", KOMBU_SEP)
    prefix = options.get("global_keyprefix", "")
    return [(step, prefix + (f"{queue}{sep}{step}" if step else queue)) for step in steps]


def redis_queue_keys(queue: str, options: dict[str, Any]) -> list[str]:
    """The Redis lists kombu keeps `queue` in, one per priority step."""
    return [key for _, key in redis_queue_lists(queue, options)]


def redis_options(topology: Topology) -> dict[str, Any]:
    """The transport options that decide key names, as `celery_config` gives them to kombu."""
    options: dict[str, Any] = {"priority_steps": list(range(PRIORITY_LEVELS))}
    # broker.transport_options is a later addition to the format: read it where the model has it.
    passed = getattr(topology.broker, "transport_options", None) or {}
    for key in ("global_keyprefix", "sep"):
        if key in passed:
            options[key] = passed[key]
    return options


def redis_database(url: str) -> int:
    """The database number of a redis:// URL (its path, `/0` when absent), as kombu reads it."""
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0
