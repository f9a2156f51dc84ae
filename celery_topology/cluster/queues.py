"""What waits in each queue, read on the broker without consuming anything.

- Redis: kombu keeps a queue in one list per priority step (`topology/brokerkeys.py` names
  them); it LPUSHes and BRPOPs, so the oldest message of each list is its right end. One pipeline reads, for every list, its
  length (LLEN) and its oldest message (LINDEX -1), whose `PUBLISHED_HEADER` is the publish
  time the topology's router stamped. Depth is the sum over the lists; the oldest age is the
  oldest of the lists' oldest messages. One round trip per look, whatever the queue count.
- RabbitMQ: a passive `queue_declare` gives the ready count. A message's headers cannot be read
  without taking it off the queue (`basic_get`, then a requeue that marks it redelivered, and
  on a priority queue the one taken is the most urgent, not the oldest): the age is not
  measured there, and neither is the depth per priority.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..runtime.marks import PUBLISHED_HEADER
from ..runtime.store import client
from ..topology.brokerkeys import redis_queue_lists
from ..topology.grammar import url_scheme
from ..topology.model import Topology

if TYPE_CHECKING:
    from celery import Celery

FILE_PRIORITY_TOP = 9  # the file's scale: 9 most urgent; Redis' native scale is the inverse


@dataclass(frozen=True)
class QueueReading:
    """One queue as the broker holds it; None where the broker cannot tell."""

    depth: int | None  # every priority summed; None: the broker does not have the queue (RabbitMQ)
    by_priority: dict[int, int] = field(default_factory=dict)  # the file's priority (of the list's step) -> waiting
    oldest_published: float | None = None  # publish time of the oldest waiting stamped message


def published_at(raw: bytes | None) -> float | None:
    """The publish time a kombu Redis message carries in its headers, if the topology stamped it."""
    if raw is None:
        return None
    try:
        stamp = json.loads(raw).get("headers", {}).get(PUBLISHED_HEADER)
    except (ValueError, AttributeError):
        return None  # not a kombu JSON envelope
    return float(stamp) if isinstance(stamp, int | float) else None


def redis_read(url: str, queues: list[str], options: dict[str, Any]) -> dict[str, QueueReading]:
    """Every queue's lists, length and oldest message each, in one pipeline (one round trip)."""
    lists = {queue: redis_queue_lists(queue, options) for queue in queues}
    pipe = client(url).pipeline(transaction=False)
    for queue in queues:
        for _, key in lists[queue]:
            pipe.llen(key)
            pipe.lindex(key, -1)
    replies = iter(pipe.execute())
    readings = {}
    for queue in queues:
        by_priority, stamps = {}, []
        for step, _ in lists[queue]:
            size, head = next(replies), next(replies)
            by_priority[FILE_PRIORITY_TOP - min(step, FILE_PRIORITY_TOP)] = size
            stamp = published_at(head)
            if stamp is not None:
                stamps.append(stamp)
        depth = sum(by_priority.values())
        readings[queue] = QueueReading(depth, by_priority, min(stamps) if stamps else None)
    return readings


def amqp_read(app: Celery, queues: list[str]) -> dict[str, QueueReading]:
    """Messages ready per queue by passive declare; depth None for a queue the broker does not have (NOT_FOUND)."""
    readings: dict[str, QueueReading] = {}
    with app.connection_for_read() as conn:
        for queue in queues:
            channel = conn.channel()
            try:
                readings[queue] = QueueReading(channel.queue_declare(queue=queue, passive=True).message_count)
            except conn.channel_errors:  # NOT_FOUND closes the channel
                readings[queue] = QueueReading(None)
            finally:
                channel.close()
    return readings


def read_queues(topology: Topology, app: Celery, queues: list[str]) -> dict[str, QueueReading]:
    if topology.broker.is_redis:
        return redis_read(topology.broker.url, queues, dict(app.conf.broker_transport_options or {}))
    if url_scheme(topology.broker.url) in ("amqp", "amqps", "pyamqp"):
        return amqp_read(app, queues)
    return {queue: QueueReading(None) for queue in queues}  # memory://: no broker to ask


def queue_depths(topology: Topology, app: Celery, queues: list[str]) -> dict[str, int | None]:
    return {queue: reading.depth for queue, reading in read_queues(topology, app, queues).items()}
