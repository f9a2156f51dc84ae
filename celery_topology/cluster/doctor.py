"""Broker checks: settings of the live broker that lose tasks, each reported with what to change.

First the app named by `app:` is imported as `celery -A` would (`app_check.py`): a wrong path is an error.

Redis: a `maxmemory-policy` other than `noeviction` evicts queued tasks under memory pressure;
persistence off (no RDB `save` rule and `appendonly no`) loses every queued task on a restart;
dead letters waiting are pointed out. RabbitMQ: the connection only. The visibility timeout
against the longest retry wait and time limit is a rule of the file (`validate`), which `doctor`
runs first. Celery, kombu and redis are imported only by the function that needs them.
"""

from __future__ import annotations

from typing import Any

from ..runtime.store import client, store_url
from ..topology import brokers
from ..topology.errors import Problem, finding
from ..topology.explain import mask_url
from ..topology.model import Topology
from .app_check import app_findings
from .beatlock import doctor_findings
from .deadletters import entries

EVICTION_FIX = (
    "set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET): a full Redis then refuses new tasks"
    " instead of dropping queued ones"
)
PERSISTENCE_FIX = (
    "turn on `appendonly yes` (appendfsync everysec) or an RDB `save` rule in redis.conf, and CONFIG REWRITE"
)


def redis_config_findings(config: dict[str, str]) -> list[Problem]:
    """What is wrong in a Redis server's CONFIG (maxmemory-policy, save, appendonly)."""
    found = []
    policy = config.get("maxmemory-policy", "noeviction")
    if policy != "noeviction":
        text = f"Redis maxmemory-policy is {policy}: under memory pressure it evicts queued tasks; {EVICTION_FIX}"
        found.append(finding("error", "redis-eviction", text))
    if not config.get("save", "").strip() and config.get("appendonly", "no") == "no":
        text = f"Redis persistence is off (no RDB save rule, appendonly no): a restart loses every queued task; {PERSISTENCE_FIX}"
        found.append(finding("error", "redis-no-persistence", text))
    return found


def redis_findings(url: str, dead_url: str | None) -> list[Problem]:
    """Ask the Redis at `url` for its configuration (a refused CONFIG is a warning: check by hand)."""
    import redis

    try:
        config = client(url).config_get("maxmemory-policy", "save", "appendonly")
        found = redis_config_findings({str(k): str(v) for k, v in config.items()})
    except redis.exceptions.ResponseError:
        text = "Redis refuses CONFIG GET: check by hand that maxmemory-policy is noeviction and persistence is on"
        found = [finding("warning", "redis-config-unreadable", text)]
    if dead_url == url:
        waiting = sum(1 for _ in entries(url))
        if waiting:
            text = f"{waiting} dead letter{'s' if waiting > 1 else ''} kept; see `celery-topology dead list`"
            found.append(finding("warning", "dead-letters", text))
    return found


def amqp_findings(topology: Topology, timeout: float) -> list[Problem]:
    """RabbitMQ: the connection is all there is to check from here (a refused login or vhost is one finding)."""
    from .observe import broker_errors, make_app, unreachable

    app = make_app(topology)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except broker_errors(app) as exc:
        return [finding("error", "broker-unreachable", unreachable(exc, topology.broker.url))]
    return []


def diagnose(topology: Topology, timeout: float = 5.0, source: str | None = None) -> dict[str, Any]:
    """The doctor's report: `ok` when no finding is an error; an unreachable broker is one, password masked.

    With `source` (the topology file), the app named by `app:` is imported too, as `celery -A` would.
    """
    import redis
    from kombu.exceptions import KombuError

    from .observe import unreachable

    url = topology.broker.url
    dead_url = store_url(topology)
    found: list[Problem] = [] if source is None else app_findings(topology.app, source, url)
    if dead_url is None:
        text = "failed tasks cannot be dead-lettered: give a Redis result_backend to keep them"
        found.append(finding("warning", "no-dead-letter-store", text))
    try:
        scheme = brokers.scheme(url)
        if topology.broker.is_redis:
            found += redis_findings(url, dead_url)
        elif scheme in brokers.AMQP_SCHEMES:
            found += amqp_findings(topology, timeout)
        elif scheme != "memory":
            text = f"broker checks: not supported on this broker ({scheme}); check its settings by hand"
            found.append(finding("warning", "not-supported", text))
        found += doctor_findings(topology)
    except (OSError, ImportError, redis.exceptions.RedisError, KombuError) as exc:  # ImportError: a transport's client
        found.append(finding("error", "broker-unreachable", unreachable(exc, url)))
    ok = not any(f.is_error for f in found)
    return {"ok": ok, "broker": mask_url(url), "findings": [f.as_finding() for f in found]}
