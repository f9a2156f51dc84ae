"""Rules for `deploy.kubernetes` and pools' `scale`, registered in `checks.RULES`."""

from __future__ import annotations

from collections.abc import Iterator

from .document import Document
from .errors import Problem
from .grammar import url_scheme
from .model import Topology

KEDA_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")  # brokers a KEDA trigger can read


def kubernetes_pools(t: Topology, doc: Document) -> Iterator[Problem]:
    """`deploy.kubernetes.pools` names only declared pools; `scale` needs a broker KEDA can count."""
    kubernetes = t.deploy.kubernetes if t.deploy else None
    for name in kubernetes.pools if kubernetes else ():
        if name not in t.pools:
            yield doc.problem(
                ("deploy", "kubernetes", "pools", name),
                f"no pool is named {name!r}; use one of {', '.join(t.pools)}",
                "kubernetes-pool-unknown",
                key=True,
            )
    scheme = url_scheme(t.broker.url)
    for name, pool in t.pools.items():
        if pool.scale is not None and scheme not in KEDA_SCHEMES:
            yield doc.problem(
                ("pools", name, "scale"),
                f"KEDA cannot count messages on a {scheme}:// broker; scale needs Redis or RabbitMQ (or remove scale)",
                "scale-broker",
            )
