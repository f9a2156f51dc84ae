"""What each broker transport and result backend can do, known by URL scheme without importing kombu.

The schemes are kombu's `TRANSPORT_ALIASES` and Celery's `BACKEND_ALIASES` (kombu/celery 5.7),
with the `transport+url` and `db+url` forms they accept. A feature a transport lacks is a warning
where the file uses it (`checks.broker_features`), and `status`/`doctor` say it is not supported
instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transport:
    priorities: bool  # message priorities (RabbitMQ x-max-priority, Redis priority lists)
    depth: bool  # celery-topology can read a queue's depth (status)
    inspect: bool  # broadcast remote control (`celery inspect`, status's workers)


_AMQP = Transport(priorities=True, depth=True, inspect=True)
_REDIS = Transport(priorities=True, depth=True, inspect=True)
_OTHER = Transport(priorities=False, depth=False, inspect=True)
_NO_BROADCAST = Transport(priorities=False, depth=False, inspect=False)

AMQP_SCHEMES = ("amqp", "amqps", "pyamqp", "librabbitmq")
TRANSPORTS: dict[str, Transport] = {
    **dict.fromkeys(AMQP_SCHEMES, _AMQP),
    **dict.fromkeys(("redis", "rediss", "redis+socket", "sentinel"), _REDIS),
    **dict.fromkeys(("sqs", "SQS", "gcpubsub", "azureservicebus", "azurestoragequeues", "pgmq"), _NO_BROADCAST),
    **dict.fromkeys(("confluentkafka", "kafka", "slmq", "SLMQ", "pyro", "qpid", "zookeeper", "etcd"), _OTHER),
    **dict.fromkeys(("consul", "mongodb", "sqla", "sqlalchemy", "filesystem", "memory"), _OTHER),
}
BACKENDS = frozenset(
    {
        "arangodb", "azureblockblob", "cache", "cassandra", "consul", "cosmosdbsql", "couchbase", "couchdb",
        "database", "db", "disabled", "dynamodb", "elasticsearch", "elasticsearchs", "file", "gs", "mongodb",
        "redis", "rediss", "redis+socket", "riak", "rpc", "s3", "sentinel", "django-db", "django-cache",
    }
)  # fmt: skip


def scheme(url: str) -> str:
    """`sqla+postgresql://...` -> `sqla`; `redis+socket://` stays whole (kombu's own scheme); `django-db` alone."""
    head = url.split("://", 1)[0]
    return head if head == "redis+socket" else head.split("+", 1)[0]


def transport(url: str) -> Transport | None:
    """What the broker at `url` can do; None for a scheme kombu does not know."""
    return TRANSPORTS.get(scheme(url))
