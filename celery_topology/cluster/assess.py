"""The live cluster judged against the topology. Pure: `live.py` observes, this module decides.

A worker belongs to the pool whose hostname template (`agent-worker@%h`, default
`<pool>@%h`) matches its node name, expanded the way Celery expands `-n`. The cluster
is healthy when every pool has a worker online on each of its declared hosts, each such
worker consumes exactly its pool's queues, no worker consumes an undeclared queue, and
no queue holds messages with nobody consuming it. A worker of no pool that consumes every
declared queue is the development worker (`make run-worker`): it serves every pool, which is
then reported as `development` rather than down. Workers report the checksum of the topology
they loaded (runtime/probe.py); one that differs from the file's is named, to be restarted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..topology import brokers
from ..topology.errors import Problem, finding
from ..topology.fingerprint import fingerprint
from ..topology.model import Topology
from .beatlock import lock_findings, redbeat_missing

_SPECIFIER = re.compile(r"%[hndiI]")


@dataclass(frozen=True)
class WorkerView:
    """One online worker as the broker reports it."""

    name: str
    queues: tuple[str, ...]
    active: int = 0
    reserved: int = 0
    scheduled: int = 0  # retries waiting out their delay, ETA/countdown tasks
    stats: dict[str, Any] = field(default_factory=dict)
    topology: str | None = None  # checksum of the topology it loaded (None: not configured by configure())


@dataclass(frozen=True)
class Observation:
    """Everything one look at the cluster found; `error` when the broker could not be asked."""

    broker: str  # masked
    workers: dict[str, WorkerView]
    depths: dict[str, int | None]  # None: the broker does not know the queue (RabbitMQ, never declared)
    error: str | None = None  # why the broker could not be asked ("broker unreachable: login refused; ...")
    beat: dict[str, Any] | None = None  # redbeat only: the lock and each entry's runs (`beatlock.beat_status`)
    unsupported: tuple[str, ...] = ()  # what this broker cannot tell: "queue depth", "workers"


def node_pattern(template: str, host: str | None = None) -> re.Pattern[str]:
    """The node names Celery makes of `-n template` (on `host`, or on any machine)."""
    if "@" not in template:
        template = f"celery@{template}"  # celery.utils.nodenames.default_nodename
    expand = {
        "%h": host,
        "%n": host.partition(".")[0] if host else None,
        "%d": host.partition(".")[2] if host else None,
    }
    parts = _SPECIFIER.split(template)
    specifiers = _SPECIFIER.findall(template)
    regex = re.escape(parts[0])
    for spec, literal in zip(specifiers, parts[1:], strict=True):
        value = expand.get(spec)
        regex += (re.escape(value) if value is not None else ".*") + re.escape(literal)
    return re.compile(regex)


def pool_of(topology: Topology, worker: str) -> str | None:
    """The pool whose hostname template matches `worker`'s node name, else None."""
    for name in topology.pools:
        if node_pattern(topology.pool_hostname(name)).fullmatch(worker):
            return name
    return None


def development_workers(topology: Topology, obs: Observation) -> list[str]:
    """Workers of no pool that consume every declared queue: the development worker (`make run-worker`)."""
    every = set(topology.queues)
    return sorted(w for w, view in obs.workers.items() if pool_of(topology, w) is None and every <= set(view.queues))


def _pool_report(
    topology: Topology, name: str, obs: Observation, dev: list[str]
) -> tuple[dict[str, Any], list[Problem]]:
    pool, template = topology.pools[name], topology.pool_hostname(name)
    online = sorted(w for w in obs.workers if pool_of(topology, w) == name)
    findings = []
    if not online and not dev:
        findings.append(finding("error", "pool-down", f"pool {name!r}: no worker online (expected {template})"))
    for host in pool.hosts or []:
        if online and not any(node_pattern(template, host).fullmatch(w) for w in online):
            findings.append(finding("error", "host-down", f"pool {name!r}: no worker online on host {host!r}"))
    for worker in online:
        missing = sorted(set(pool.queues) - set(obs.workers[worker].queues))
        if missing:
            text = f"pool {name!r}: worker {worker} does not consume {', '.join(missing)}"
            findings.append(finding("error", "queue-not-consumed", text))
        extra = sorted(set(obs.workers[worker].queues) & set(topology.queues) - set(pool.queues))
        if extra:
            text = (
                f"pool {name!r}: worker {worker} also consumes {', '.join(extra)}, which the file gives to other pools"
            )
            findings.append(finding("error", "queue-extra", text))
    # One word for the pool's state, printed as is in text and JSON alike.
    state = "development" if not online and dev else "down" if not online else "incomplete" if findings else "complete"
    report = {"hostname": template, "hosts": list(pool.hosts or []), "queues": list(pool.queues), "online": online}
    served_by = online or dev
    return {**report, "complete": state == "complete", "state": state, "served_by": served_by}, findings


def _queue_report(
    topology: Topology, obs: Observation, previous: Observation | None
) -> tuple[dict[str, Any], list[Problem]]:
    queues: dict[str, Any] = {}
    findings = []
    for queue in sorted(set(topology.queues) | set(obs.depths)):
        depth = obs.depths.get(queue)
        consumers = sorted(w for w, view in obs.workers.items() if queue in view.queues)
        queues[queue] = {"depth": depth, "consumers": consumers, "declared": queue in topology.queues}
        if depth and not consumers:
            before = previous.depths.get(queue) if previous else None
            grew = f" (was {before})" if before is not None and depth > before else ""
            text = f"queue {queue!r}: {depth} waiting{grew} and no worker consumes it"
            findings.append(finding("error", "queue-stranded", text))
    return queues, findings


def _workers_report(topology: Topology, obs: Observation, dev: list[str]) -> tuple[dict[str, Any], list[Problem]]:
    workers: dict[str, Any] = {}
    findings = []
    on_disk = fingerprint(topology)
    for name, view in sorted(obs.workers.items()):
        pool = pool_of(topology, name)
        workers[name] = {"pool": pool, "queues": list(view.queues), "active": view.active}
        workers[name].update(reserved=view.reserved, scheduled=view.scheduled, topology=view.topology)
        undeclared = sorted(set(view.queues) - set(topology.queues))
        if undeclared:
            text = f"worker {name} consumes undeclared queue(s) {', '.join(undeclared)}"
            findings.append(finding("error", "undeclared-queue", text))
        if name in dev:
            text = f"worker {name} consumes every queue: the development worker (make run-worker); pools not checked"
            findings.append(finding("warning", "development-worker", text))
        elif pool is None:
            findings.append(finding("warning", "unknown-worker", f"worker {name} matches no pool's hostname"))
        if view.topology is not None and view.topology != on_disk:
            text = f"worker {name} runs an older topology ({view.topology}, the file is {on_disk}): restart it"
            findings.append(finding("warning", "topology-changed", text))
    return workers, findings


def assess(topology: Topology, obs: Observation, previous: Observation | None = None) -> dict[str, Any]:
    """The status report: pools, workers, queues, findings, and `healthy` (no error finding)."""
    if obs.error is not None:
        down = finding("error", "broker-unreachable", obs.error)
        empty: dict[str, Any] = {"pools": {}, "workers": {}, "queues": {}}
        return {"healthy": False, "broker": obs.broker, **empty, "findings": [down.as_finding()]}
    findings = [
        finding(
            "warning", "not-supported", f"{what}: not supported on this broker ({brokers.scheme(topology.broker.url)})"
        )
        for what in obs.unsupported
    ]
    pools: dict[str, Any] = {}
    dev = development_workers(topology, obs)
    for name in topology.pools:
        pools[name], found = _pool_report(topology, name, obs, dev)
        if "workers" in obs.unsupported:  # nobody could be asked: neither complete nor down
            pools[name].update(complete=False, state="unknown")
            found = []
        findings += found
    workers, found = _workers_report(topology, obs, dev)
    findings += found
    queues, found = _queue_report(topology, obs, previous)
    findings += found
    findings += lock_findings(topology, obs.beat["lock"] if obs.beat else None)
    if obs.beat is not None and obs.beat["entries"] is None:
        findings.append(redbeat_missing())
    healthy = not any(f.is_error for f in findings)
    return {
        "healthy": healthy,
        "broker": obs.broker,
        "pools": pools,
        "workers": workers,
        "queues": queues,
        **({"beat": obs.beat} if obs.beat is not None else {}),
        "findings": [f.as_finding() for f in findings],
    }
