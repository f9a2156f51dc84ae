"""The topology explained to people: route answers, readable tables, masked URLs. Pure: no Celery import.

`route_info` answers with `Router.resolve`, so it is the same answer the generated
`task_routes` gives; `show_text` prints the file as tables; `table` is the one table
formatter every command uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .beatlock import beat_hosts, is_locking, lock_timeout, max_loop_interval
from .delivery import SAFE_DEFAULT_SOURCE, SAFE_DEFAULTS
from .model import Pool, RetryPolicy, Topology
from .routing import Router, is_celery_own, merge_retry, shared_router


def mask_url(url: str) -> str:
    """`url` with any password replaced by `***` (redis://:***@host:6379/0); never print a broker password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns, two spaces apart, a dashed rule under the headers."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def retry_summary(policy: RetryPolicy) -> str:
    """`3 x 60s exponential (max 600s), on ConnectionError, TimeoutError` in one line."""
    if not policy.max_retries:
        return "no retries"
    jitter = ", jitter" if policy.jitter else ""
    errors = ", ".join(policy.errors or []) or "no exception (task code decides)"
    return f"{policy.max_retries} x {policy.delay}s {policy.backoff} (max {policy.max_delay}s{jitter}), on {errors}"


def pool_hosts(pool: Pool) -> list[str]:
    """The machines a pool is declared on; empty when it runs wherever its unit is installed."""
    return list(pool.hosts or [])


def route_info(topology: Topology, task: str, router: Router | None = None) -> dict[str, Any]:
    """What the topology decides for `task`, and which pools (and hosts) run it."""
    found = (router or shared_router(topology)).resolve(task)
    pools = [
        {"pool": name, "hostname": topology.pool_hostname(name), "hosts": pool_hosts(topology.pools[name])}
        for name in topology.consumers(found.queue)
    ]
    return {
        "task": task,
        "pattern": found.pattern,
        "queue": found.queue,
        "priority": found.priority,
        "retry": None if is_celery_own(task) else found.retry.model_dump(),
        "time_limit": found.time_limit,
        "soft_time_limit": found.soft_time_limit,
        "pools": pools,
    }


def route_text(info: dict[str, Any]) -> str:
    own = "none: Celery's own task, retry policies do not apply"
    retry = own if info["retry"] is None else retry_summary(RetryPolicy(**info["retry"]))
    matched = info["pattern"] if info["pattern"] is not None else "(no route matched: defaults)"
    limits = f"{info['time_limit'] or '-'}s hard, {info['soft_time_limit'] or '-'}s soft"
    lines = [
        f"task:      {info['task']}",
        f"matched:   {matched}",
        f"queue:     {info['queue']}",
        f"priority:  {info['priority']} (0..9, 9 most urgent)",
        f"retry:     {retry}",
        f"limits:    {limits}",
    ]
    if not info["pools"]:
        lines.append("pools:     none: no pool consumes this queue, the task would wait forever")
    for pool in info["pools"]:
        hosts = ", ".join(pool["hosts"]) or "every machine its unit is installed on"
        lines.append(f"pool:      {pool['pool']} as {pool['hostname']} on {hosts}")
    return "\n".join(lines)


def _routes(topology: Topology) -> list[dict[str, Any]]:
    destinations = shared_router(topology).destinations
    rows: list[dict[str, Any]] = []
    for key in [*topology.routes, None]:
        queue, priority = destinations[key]
        route = topology.routes[key] if key is not None else None
        retry = merge_retry(topology.defaults.retry, route.retry if route else None)
        rows.append({"route": key, "queue": queue, "priority": priority, "retry": retry.model_dump()})
    return rows


def show_info(topology: Topology) -> dict[str, Any]:
    """The topology as `show` reports it (routes in resolution order, broker password masked)."""
    pools = {
        name: {
            "queues": list(p.queues),
            "pool": p.pool,
            "concurrency": p.concurrency,
            "autoscale": p.autoscale.model_dump() if p.autoscale is not None else None,
            "hostname": topology.pool_hostname(name),
            "hosts": pool_hosts(p),
        }
        for name, p in topology.pools.items()
    }
    beat = None
    if topology.beat is not None and topology.beat.schedule:
        schedule = {
            n: {"task": e.task, "cron": e.cron, "every": e.every, "schedule": e.schedule, "when": e.when}
            for n, e in topology.beat.schedule.items()
        }
        beat = {"summary": beat_summary(topology), "schedule": schedule}
    return {
        "app": topology.app,
        "environment": topology.environment,
        "broker": mask_url(topology.broker.url),
        "queues": {
            n: {"max_priority": q.max_priority, "consumed_by": topology.consumers(n)}
            for n, q in topology.queues.items()
        },
        "routes": _routes(topology),
        "pools": pools,
        "delivery": [{"setting": k, "value": v, "from": SAFE_DEFAULT_SOURCE} for k, v in SAFE_DEFAULTS.items()],
        "beat": beat,
    }


def show_text(info: dict[str, Any]) -> str:
    """`show_info` as tables: broker, queues, routes, pools, delivery, beat."""
    queues = [[name, q["max_priority"], ", ".join(q["consumed_by"]) or "NONE"] for name, q in info["queues"].items()]
    routes = [
        [r["route"] or "(anything else)", r["queue"], r["priority"], retry_summary(RetryPolicy(**r["retry"]))]
        for r in info["routes"]
    ]
    pools = [
        [name, ", ".join(p["queues"]), p["pool"], _size(p), p["hostname"], ", ".join(p["hosts"]) or "-"]
        for name, p in info["pools"].items()
    ]
    environment = f"\nenvironment: {info['environment']}" if info["environment"] else ""
    sections = [
        f"app: {info['app']}{environment}\nbroker: {info['broker']}",
        "QUEUES\n" + table(["queue", "max priority", "consumed by"], queues),
        "ROUTES (first match wins; exact names before patterns)\n"
        + table(["route", "queue", "priority", "retry"], routes),
        "POOLS\n" + table(["pool", "queues", "kind", "size", "hostname", "hosts"], pools),
    ]
    delivery = [[d["setting"], d["value"], d["from"]] for d in info["delivery"]]
    sections.append("DELIVERY (where each value comes from)\n" + table(["setting", "value", "from"], delivery))
    if info["beat"] is not None:
        beat = [[n, e["task"], e["when"]] for n, e in info["beat"]["schedule"].items()]
        sections.append(f"BEAT ({info['beat']['summary']})\n" + table(["entry", "task", "when"], beat))
    return "\n\n".join(sections)


def beat_summary(topology: Topology) -> str:
    """`UTC`, or with redbeat `UTC, redbeat on worker-1, worker-2: lock 60s, loop 15s`."""
    assert topology.beat is not None
    beat, text = topology.beat, topology.beat.timezone
    if beat.scheduler != "celery":
        text += f", {beat.scheduler}"
    if beat_hosts(topology):
        text += f" on {', '.join(beat_hosts(topology))}"
    if is_locking(beat):
        text += f": lock {lock_timeout(beat)}s, loop {max_loop_interval(beat)}s"
    return text


def _size(pool: dict[str, Any]) -> str:
    if pool["autoscale"] is not None:
        return f"{pool['autoscale']['min']}..{pool['autoscale']['max']}"
    return str(pool["concurrency"]) if pool["concurrency"] is not None else "cpus"
