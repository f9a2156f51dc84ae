"""`GET /metrics`: the live cluster against the file, in Prometheus' text format.

Every queue, pool and priority list comes from the file, so on Redis a queue nobody has published
to yet shows depth 0 instead of being missing (RabbitMQ does not have such a queue: no sample), and
a Redis queue's depth counts every priority list. Per
scrape: one broker read of the queues (on Redis one pipeline: length and oldest message of every
list), one of the dead-letter store (a Redis hash per queue), and the workers' answers from the
looker's cache (one broadcast round at most per `cache` seconds). A broker that cannot be reached
gives `celery_topology_broker_up 0` and nothing else that would need it.

Names are fixed (alert rules and dashboards use them): see the README's "Metrics" section.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from time import time
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from ..runtime.store import store_url
from ..topology import targets
from ..topology.digest import checksum
from ..topology.model import Topology
from . import deadletters
from .assess import WorkerView, pool_of
from .looker import Looker
from .observe import broker_errors, unsupported
from .queues import QueueReading, read_queues

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus 2.x parses
P = "celery_topology_"


@dataclass(frozen=True)
class Snapshot:
    """What one scrape found; None where the broker could not be asked."""

    now: float
    queues: dict[str, QueueReading] | None
    dead: dict[str, int] | None
    workers: dict[str, WorkerView] | None
    answer_age: float | None  # seconds since the workers answered (the cache)


def measure(looker: Looker) -> Snapshot:
    topology, queues, errors = looker.topology, sorted(looker.topology.queues), broker_errors(looker.app)
    try:
        readings = read_queues(topology, looker.app, queues)
    except errors:
        return Snapshot(time(), None, None, None, None)
    store = store_url(topology)
    try:
        dead = deadletters.counts(store, queues) if store is not None else None
        if "workers" in unsupported(topology):  # no broadcast on this transport (sqs://...)
            return Snapshot(time(), readings, dead, None, None)
        workers, age = looker.workers(), looker.answer_age()
    except errors:
        return Snapshot(time(), readings, None, None, None)
    return Snapshot(time(), readings, dead, workers, age)


def gauge(name: str, text: str, labels: tuple[str, ...], samples: Mapping[Any, float]) -> GaugeMetricFamily:
    """One gauge family; `samples` maps a tuple of label values (in `labels` order) to the value."""
    family = GaugeMetricFamily(P + name, text, labels=list(labels))
    for values, value in samples.items():
        family.add_metric(list(values), value)
    return family


def file_families(topology: Topology) -> Iterator[Metric]:
    """What the file declares: the checksum, each pool's declared and minimum workers, each queue's targets."""
    yield gauge(
        "info",
        "the topology file being served (checksum as in rendered rules)",
        ("checksum",),
        {(checksum(topology),): 1},
    )
    declared = {(p,): targets.declared_workers(topology, p) for p in topology.pools}
    yield gauge(
        "pool_workers_declared",
        "workers the file declares for the pool (its hosts, else scale.min, else 1)",
        ("pool",),
        declared,
    )
    minimum = {(p,): targets.min_workers(topology, p) for p in topology.pools}
    yield gauge("pool_workers_min", "workers below which the pool alerts (min_workers)", ("pool",), minimum)
    waits = {(q,): w for q in topology.queues if (w := targets.max_wait(topology, q)) is not None}
    yield gauge("queue_max_wait_seconds", "the queue's max_wait target", ("queue",), waits)
    depths = {(q,): d for q in topology.queues if (d := targets.max_depth(topology, q)) is not None}
    yield gauge("queue_max_depth", "the queue's max_depth target", ("queue",), depths)


def queue_families(readings: dict[str, QueueReading], now: float) -> Iterator[Metric]:
    known = {q: r for q, r in readings.items() if r.depth is not None}
    yield gauge(
        "queue_depth",
        "messages waiting, every priority list summed",
        ("queue",),
        {(q,): r.depth or 0 for q, r in known.items()},
    )
    by_priority = {(q, str(p)): n for q, r in known.items() for p, n in r.by_priority.items()}
    yield gauge(
        "queue_depth_by_priority",
        "messages waiting per priority (the file's 0..9; Redis only)",
        ("queue", "priority"),
        by_priority,
    )
    ages = {(q,): max(0.0, now - r.oldest_published) for q, r in known.items() if r.oldest_published is not None}
    ages.update({(q,): 0.0 for q, r in known.items() if r.depth == 0})
    yield gauge(
        "queue_oldest_age_seconds",
        "age of the oldest waiting task, from its publish header (Redis only)",
        ("queue",),
        ages,
    )


def worker_families(topology: Topology, workers: dict[str, WorkerView], age: float) -> Iterator[Metric]:
    pools: dict[str, list[WorkerView]] = {p: [] for p in topology.pools}
    for name, view in workers.items():
        pool = pool_of(topology, name)
        if pool is not None:
            pools[pool].append(view)
    yield gauge(
        "pool_workers",
        "workers of the pool online (answered the last broadcast)",
        ("pool",),
        {(p,): len(v) for p, v in pools.items()},
    )
    for name, attr, text in (
        ("tasks_running", "active", "tasks the pool's workers are running"),
        ("tasks_reserved", "reserved", "tasks the pool's workers hold, prefetched, not yet running"),
        ("tasks_scheduled", "scheduled", "tasks the pool's workers hold until their ETA (retries waiting out a delay)"),
    ):
        yield gauge(name, text, ("pool",), {(p,): sum(getattr(v, attr) for v in views) for p, views in pools.items()})
    unknown = sum(pool_of(topology, name) is None for name in workers)
    yield gauge("workers_unknown", "workers online that match no pool's hostname", (), {(): unknown})
    yield gauge("workers_answer_age_seconds", "age of the cached broadcast answer", (), {(): age})


def families(topology: Topology, snap: Snapshot) -> Iterator[Metric]:
    yield gauge("broker_up", "1 if the broker answered this scrape", (), {(): 0 if snap.queues is None else 1})
    yield from file_families(topology)
    if snap.queues is not None:
        yield from queue_families(snap.queues, snap.now)
    if snap.dead is not None:
        yield gauge(
            "dead_letters",
            "dead-lettered tasks waiting (celery-topology dead)",
            ("queue",),
            {(q,): n for q, n in snap.dead.items()},
        )
    if snap.workers is not None and snap.answer_age is not None:
        yield from worker_families(topology, snap.workers, snap.answer_age)


class _Collector:
    def __init__(self, looker: Looker) -> None:
        self.looker = looker

    def collect(self) -> Iterator[Metric]:
        return families(self.looker.topology, measure(self.looker))


def metrics_text(looker: Looker) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(looker))
    return generate_latest(registry)
