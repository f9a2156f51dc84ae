"""The parts of the model that real deployments need beyond the first format (see the spec's
"Real deployments"): the broker with any kombu transport, per-task options, queue bindings and
arguments, worker flags.

`model.py` builds its `Defaults`, `Route`, `QueueSpec` and `Pool` from these.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from . import brokers
from .base import STRICT
from .grammar import (
    BackendUrl,
    CeleryFile,
    Duration,
    EnvName,
    EnvValue,
    ImportPath,
    QueueName,
    RateLimit,
    RoutingKey,
    Url,
    is_redis_url,
)


class Strict(BaseModel):
    model_config = STRICT


class Broker(Strict):
    url: Url
    result_backend: BackendUrl | None = None
    visibility_timeout: Duration = 3600
    transport: ImportPath | None = None  # a transport class of your own; then any URL scheme goes
    transport_options: dict[str, Any] = {}  # broker_transport_options, passed through
    pool_limit: Annotated[int, Field(ge=0, le=10000)] | None = None
    heartbeat: Duration | None = None
    login_method: Literal["AMQPLAIN", "PLAIN", "EXTERNAL"] | None = None
    connection_retry_on_startup: bool = True

    @field_validator("result_backend")
    @classmethod
    def _known_backend(cls, url: str | None) -> str | None:
        if url is not None and brokers.scheme(url) not in brokers.BACKENDS:
            known = ", ".join(sorted(brokers.BACKENDS))
            raise ValueError(f"result backend {brokers.scheme(url)!r} is not a Celery result backend ({known})")
        return url

    @field_validator("transport_options")
    @classmethod
    def _own_keys(cls, options: dict[str, Any]) -> dict[str, Any]:
        owned = {"visibility_timeout": "write it as broker.visibility_timeout", "priority_steps": "set by the topology"}
        for key, why in owned.items():
            if key in options:
                raise ValueError(f"{key} is not a transport option here: {why}")
        return options

    @property
    def is_redis(self) -> bool:
        return is_redis_url(self.url)


# kombu's built-in serializers; a custom one registered with kombu is named in the task's code instead.
Serializer = Literal["json", "pickle", "yaml", "msgpack"]


class TaskOptions(Strict):
    """Per-task options on `defaults` and on each route, set on the task by `configure` unless its code sets them."""

    rate_limit: RateLimit | None = None
    expires: Duration | None = None
    acks_late: bool | None = None
    reject_on_worker_lost: bool | None = None
    ignore_result: bool | None = None
    track_started: bool | None = None
    serializer: Serializer | None = None


TASK_OPTIONS = tuple(TaskOptions.model_fields)


def _argument_types() -> dict[str, tuple[type, ...] | tuple[str, ...]]:
    """The well-known `x-` queue arguments: their type, or the values RabbitMQ accepts."""
    return {
        "x-message-ttl": (int,),
        "x-expires": (int,),
        "x-max-length": (int,),
        "x-max-length-bytes": (int,),
        "x-delivery-limit": (int,),
        "x-dead-letter-exchange": (str,),
        "x-dead-letter-routing-key": (str,),
        "x-single-active-consumer": (bool,),
        "x-queue-master-locator": (str,),
        "x-overflow": ("drop-head", "reject-publish", "reject-publish-dlx"),
        "x-queue-type": ("classic", "quorum", "stream"),
        "x-queue-mode": ("default", "lazy"),
    }


QUEUE_ARGUMENTS = _argument_types()


def _check_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    for key, value in arguments.items():
        if key == "x-max-priority":
            raise ValueError("write x-max-priority as the queue's max_priority key (0 opts out)")
        rule = QUEUE_ARGUMENTS.get(key)
        if rule is None:
            if not isinstance(value, (str, int, float, bool)):
                raise ValueError(f"{key}: a queue argument is a string, a number or true/false")
        elif all(isinstance(r, type) for r in rule):
            types = tuple(t for t in rule if isinstance(t, type))
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                raise ValueError(f"{key} must be {'true or false' if bool in types else _noun(types[0])}")
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{key} must be at least 0")
        elif value not in rule:
            raise ValueError(f"{key} must be one of {', '.join(map(str, rule))}")
    return arguments


def _noun(kind: type) -> str:
    return "a whole number (milliseconds or a count)" if kind is int else "a string"


class QueueBinding(Strict):
    """How a queue is declared: its exchange, routing key, durability, delivery mode and arguments."""

    exchange: QueueName | None = None  # default: the queue's own name
    exchange_type: Literal["direct", "topic", "fanout", "headers"] = "direct"
    routing_key: RoutingKey | None = None  # default: the queue's own name
    durable: bool = True
    delivery_mode: Literal["persistent", "transient"] = "persistent"
    queue_arguments: dict[str, Any] = {}

    @field_validator("queue_arguments")
    @classmethod
    def _arguments(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_arguments(value)


class WorkerFlags(Strict):
    """Worker settings of a pool that go on its command line or into its unit."""

    app: ImportPath | None = None  # another Celery app for this pool (`-A`)
    optimization: Literal["default", "fair"] | None = None
    events: bool = False
    without_gossip: bool = False
    without_mingle: bool = False
    without_heartbeat: bool = False
    environment: dict[EnvName, EnvValue] = {}
    nice: Annotated[int, Field(ge=0, le=19)] | None = None  # lowering only: raising needs root
    statedb: CeleryFile | None = None
    pidfile: CeleryFile | None = None
    logfile: CeleryFile | None = None
    stop_timeout: Duration | None = None  # overrides the one derived from the time limits
    beat: bool = False  # beat embedded in this pool's worker (-B)
    disable_rate_limits: bool = False

    @property
    def files(self) -> dict[str, str]:
        """The files the worker writes, by key, in command-line order."""
        found = (("statedb", self.statedb), ("pidfile", self.pidfile), ("logfile", self.logfile))
        return {key: path for key, path in found if path is not None}


def written_directory(path: str) -> str:
    """The directory a worker's file is written in, cut before the first part holding a Celery `%` placeholder
    (`/var/log/%n/w.log`: `/var/log`), since Celery expands it per node."""
    parts = path.split("/")[:-1]
    fixed = next((i for i, part in enumerate(parts) if "%" in part), len(parts))
    return "/".join(parts[:fixed]) or "/"
