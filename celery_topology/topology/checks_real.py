"""Rules for the keys real deployments need (the spec's "Real deployments"): unconsumed queues (the
default one a warning), broker features, queue bindings, embedded beat, per-pool environment.
`checks.RULES` runs them with the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from . import brokers
from .credentials import SECRET_KEY
from .document import Document
from .errors import Problem
from .model import Topology

Rule = Callable[[Topology, Document], Iterator[Problem]]


def unconsumed_queues(t: Topology, doc: Document) -> Iterator[Problem]:
    """A declared queue that no pool consumes collects tasks forever."""
    for queue in t.queues:
        if t.consumers(queue):
            continue
        if queue == t.defaults.queue:  # validate cannot know every task name: some deployments route them all
            yield doc.problem(
                ("queues", queue),
                f"no pool consumes the default queue {queue!r}: tasks that match no route and Celery's own"
                " (celery.chord_unlock, celery.backend_cleanup) would wait there forever; add it to a pool's"
                " queues unless every task is routed",
                "default-queue-unconsumed",
                key=True,
                severity="warning",
            )
        else:
            yield doc.problem(
                ("queues", queue),
                f"no pool consumes queue {queue!r}: its tasks would wait forever; add it to a pool's queues",
                "queue-unconsumed",
                key=True,
            )


def broker_scheme(t: Topology, doc: Document) -> Iterator[Problem]:
    """The broker URL's scheme must be a kombu transport, unless broker.transport names the class."""
    scheme = brokers.scheme(t.broker.url)
    if t.broker.transport is None and scheme not in brokers.TRANSPORTS:
        known = ", ".join(sorted({s.lower() for s in brokers.TRANSPORTS}))
        yield doc.problem(
            ("broker", "url"),
            f"broker scheme {scheme!r} is not a kombu transport ({known}); or name its class in broker.transport",
            "broker-scheme",
        )


def missing_queues_created(t: Topology, doc: Document) -> Iterator[Problem]:
    """`create_missing_queues: true` lets a typo create a queue nobody consumes (warning)."""
    if t.defaults.create_missing_queues:
        yield doc.problem(
            ("defaults", "create_missing_queues"),
            "a task sent to a queue the file does not declare creates it, and no pool may consume it:"
            " keep this only for queues made at run time (per-customer queues) and watch them",
            "create-missing-queues",
            severity="warning",
        )


def broker_features(t: Topology, doc: Document) -> Iterator[Problem]:
    """A feature the broker's transport lacks is a warning where the file uses it."""
    found = brokers.transport(t.broker.url)
    scheme = brokers.scheme(t.broker.url)
    if found is None:
        return
    if not found.depth:
        written = [(("defaults",), t.defaults)] + [(("queues", name), spec) for name, spec in t.queues.items()]
        for where, spec in written:
            for key in ("max_depth", "max_wait"):
                if getattr(spec, key) is not None:
                    yield doc.problem(
                        (*where, key),
                        f"celery-topology cannot read a queue's depth on the {scheme} broker: /metrics serves no"
                        f" depth or age there and the {key} alert never fires; watch it with the broker's own tools",
                        "broker-feature",
                        severity="warning",
                    )
    if found.priorities:
        return
    places: list[tuple[tuple[str, ...], int | None]] = [
        (("routes", k, "priority"), r.priority) for k, r in t.routes.items()
    ]
    places += [
        (("beat", "schedule", n, "priority"), e.priority) for n, e in (t.beat.schedule if t.beat else {}).items()
    ]
    for path, priority in places:
        if priority is not None:
            yield doc.problem(
                path,
                f"the {scheme} broker has no message priorities: this priority is ignored",
                "broker-feature",
                severity="warning",
            )


def exchange_types(t: Topology, doc: Document) -> Iterator[Problem]:
    """Queues bound to one exchange must agree on its type (RabbitMQ refuses a redeclare with another)."""
    seen: dict[str, tuple[str, str]] = {}
    for name, spec in t.queues.items():
        exchange = spec.exchange or name
        if exchange in seen and seen[exchange][1] != spec.exchange_type:
            other, kind = seen[exchange]
            yield doc.problem(
                ("queues", name, "exchange_type"),
                f"exchange {exchange!r} is {kind} for queue {other!r}; one exchange has one type",
                "exchange-type",
            )
        seen.setdefault(exchange, (name, spec.exchange_type))


def embedded_beat(t: Topology, doc: Document) -> Iterator[Problem]:
    """`beat: true` runs beat inside one pool's worker: one pool, one machine, never beside a beat process."""
    embedded = [name for name, pool in t.pools.items() if pool.beat]
    for name in embedded[1:]:
        yield doc.problem(
            ("pools", name, "beat"),
            f"beat is already embedded in pool {embedded[0]!r}: two beats run every periodic task twice",
            "beat-embedded",
        )
    for name in embedded[:1]:
        hosts = t.pools[name].hosts
        if hosts is not None and len(hosts) != 1:
            yield doc.problem(
                ("pools", name, "beat"),
                f"the pool runs on {len(hosts)} machines, so beat would run on each: embed it only in a pool on one",
                "beat-embedded",
            )
        elif t.beat is not None and t.beat.host is not None and hosts != [t.beat.host]:
            yield doc.problem(
                ("beat", "host"),
                f"beat runs inside pool {name!r}, not on {t.beat.host!r}: remove beat.host or the pool's beat",
                "beat-embedded",
            )


def environment_secrets(t: Topology, doc: Document) -> Iterator[Problem]:
    """A pool's `environment` is written into its unit: a secret there would land in the unit file."""
    for name, pool in t.pools.items():
        for key in pool.environment:
            if SECRET_KEY.search(key):
                yield doc.problem(
                    ("pools", name, "environment", key),
                    "a secret in environment would be written into the unit; put it in deploy.environment_file",
                    "environment-secret",
                    key=True,
                )


RULES: tuple[Rule, ...] = (
    unconsumed_queues,
    broker_scheme,
    missing_queues_created,
    broker_features,
    exchange_types,
    embedded_beat,
    environment_secrets,
)
