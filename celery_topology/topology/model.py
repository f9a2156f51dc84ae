"""The pydantic model of topology.yaml, format version 1.

Every model forbids unknown keys, refuses to coerce types and is frozen. The grammar of
single values (names, durations, URLs) is in `grammar.py`, cron lines in `cron.py`; rules
that relate one part of the file to another live in `checks.py`.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, model_validator

from .alerting import DefaultTargets, PoolTargets, QueueTargets
from .base import STRICT
from .cron import check_cron
from .failures import DeadLetterField, DeadLetterPolicy, LossCount
from .grammar import (
    AbsPath,
    AppPath,
    BeatName,
    Command,
    Duration,
    ExceptionRef,
    HostName,
    ImportPath,
    LoopInterval,
    Name,
    PoolName,
    Priority,
    QueueName,
    TaskName,
    TaskPattern,
    TimeLimit,
    UnixName,
    WorkerHostname,
    is_redis_url,
)
from .kube import Kubernetes, Scale
from .memo import Build, Memo, T, grouped
from .options import Broker, QueueBinding, TaskOptions, WorkerFlags

SUPPORTED_VERSION = 1


class Strict(BaseModel):
    model_config = STRICT


class RetryPolicy(Strict):
    """Retry settings; on a route, the keys given override `defaults.retry` one by one."""

    max_retries: Annotated[int, Field(ge=0, le=100)] | None = None
    delay: Duration | None = None
    backoff: Literal["exponential", "fixed"] | None = None
    max_delay: Duration | None = None
    jitter: bool | None = None
    errors: list[ExceptionRef] | None = None


class Defaults(TaskOptions, DefaultTargets):
    queue: QueueName = "default"
    priority: Priority = 5
    time_limit: TimeLimit | None = None
    soft_time_limit: TimeLimit | None = None
    retry: RetryPolicy | None = None
    dead_letter: DeadLetterField = DeadLetterPolicy()
    max_worker_losses: LossCount = 3  # a task whose worker died this many times under it is dead-lettered
    result_expires: Duration | None = None
    create_missing_queues: bool = False


class QueueSpec(QueueBinding, QueueTargets):
    # RabbitMQ x-max-priority (0: a plain queue, priorities ignored); Redis ignores it.
    # Changing it on an existing RabbitMQ queue needs the queue deleted first (PRECONDITION_FAILED).
    max_priority: Annotated[int, Field(ge=0, le=255)] = 9


class Route(TaskOptions):
    queue: QueueName | None = None
    priority: Priority | None = None
    retry: RetryPolicy | None = None
    time_limit: TimeLimit | None = None
    soft_time_limit: TimeLimit | None = None
    dead_letter: DeadLetterField | None = None
    max_worker_losses: LossCount | None = None


class Autoscale(Strict):
    min: Annotated[int, Field(ge=0, le=1024)]
    max: Annotated[int, Field(ge=1, le=1024)]

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError("autoscale min is above max; swap them")
        return self


def _each_once(queues: list[str], what: str = "queue") -> list[str]:
    seen: set[str] = set()
    for queue in queues:
        if queue in seen:
            raise ValueError(f"{what} {queue!r} is listed twice; list each once")
        seen.add(queue)
    return queues


class Pool(WorkerFlags, PoolTargets):
    queues: Annotated[list[QueueName], Field(min_length=1), AfterValidator(_each_once)]
    concurrency: Annotated[int, Field(ge=1, le=1024)] | None = None
    hostname: WorkerHostname | None = None
    pool: Literal["prefork", "threads", "solo", "gevent", "eventlet"] = "prefork"
    autoscale: Autoscale | None = None
    prefetch_multiplier: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_tasks_per_child: Annotated[int, Field(ge=1)] | None = None
    max_memory_per_child: Annotated[int, Field(ge=1)] | None = None
    time_limit: TimeLimit | None = None
    soft_time_limit: TimeLimit | None = None
    loglevel: Literal["debug", "info", "warning", "error", "critical"] = "info"
    hosts: list[HostName] | None = None
    scale: Scale | None = None  # pods of this pool, added and removed by KEDA (not Celery's autoscale)
    watchdog: Duration | None = None  # opt-in: systemd Type=notify + WatchdogSec=, the probe's live window

    @model_validator(mode="after")
    def _one_size(self) -> Pool:
        if self.concurrency is not None and self.autoscale is not None:
            raise ValueError("give either concurrency or autoscale, not both (autoscale max is the ceiling)")
        return self


class BeatEntry(Strict):
    task: TaskName
    cron: Annotated[str, AfterValidator(check_cron)] | None = None
    every: Duration | None = None
    schedule: ImportPath | None = None  # a schedule object in the app's code, `module:object`
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    queue: QueueName | None = None
    priority: Priority | None = None
    expires: Duration | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _one_schedule(self) -> BeatEntry:
        if [self.cron, self.every, self.schedule].count(None) != 2:
            raise ValueError('give exactly one of cron (e.g. "0 2 * * *"), every (e.g. 1h) or schedule (module:object)')
        if self.every == 0:
            raise ValueError("every must be at least 1s")
        return self

    @property
    def when(self) -> str:
        """The schedule as people read it: the cron line, `every 60s`, or the schedule object's import path."""
        return self.cron or (f"every {self.every}s" if self.every is not None else f"schedule {self.schedule}")


def _check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as UTC or Europe/Berlin") from None
    return name


# `beat.scheduler`'s names -> Celery's beat_scheduler; anything else is an import path.
SCHEDULERS = {
    "celery": "celery.beat:PersistentScheduler",
    "redbeat": "redbeat.schedulers:RedBeatScheduler",
    "django": "django_celery_beat.schedulers:DatabaseScheduler",
}


_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*|\.[A-Za-z_]\w*)", re.ASCII)


def _check_scheduler(value: str) -> str:
    if value not in SCHEDULERS and not _IMPORT_PATH.fullmatch(value):
        hint = f"use {', '.join(SCHEDULERS)} or an import path (package.module:Class)"
        raise ValueError(f"unknown scheduler {value!r}; {hint}")
    return value


class Beat(Strict):
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    schedule: dict[BeatName, BeatEntry] = {}
    host: HostName | None = None
    scheduler: Annotated[str, AfterValidator(_check_scheduler)] = "celery"
    hosts: Annotated[list[HostName], Field(min_length=1), AfterValidator(lambda h: _each_once(h, "host"))] | None = None
    lock_timeout: Duration | None = None
    max_loop_interval: LoopInterval | None = None


class Flower(Strict):
    """An opt-in Flower service, on the same machine as beat; loopback only unless `address` says otherwise."""

    enabled: bool = False
    port: Annotated[int, Field(ge=1, le=65535)] = 5555
    address: HostName = "127.0.0.1"


class Hardening(Strict):
    """systemd sandboxing that depends on the deployment: the risky opt-ins are off by default."""

    memory_deny_write_execute: bool = False  # breaks libraries that map W+X memory (ctypes/cffi callbacks, JITs)
    protect_home: bool = True  # turn off when working_directory or the venv lives under /home
    read_write_paths: list[AbsPath] = []  # everything else is read-only (ProtectSystem=strict)


class Deploy(Strict):
    name: Name | None = None
    user: UnixName = "celery"
    group: UnixName | None = None
    working_directory: AbsPath
    celery: Command
    environment_file: AbsPath | None = None
    topology_file: AbsPath | None = None  # CELERY_TOPOLOGY_FILE of the units; default <working_directory>/topology.yaml
    state_directory: AbsPath | None = None  # beat's schedule file lives here; default /var/lib/<name>
    flower: Flower = Flower()
    hardening: Hardening = Hardening()
    kubernetes: Kubernetes | None = None

    @model_validator(mode="after")
    def _not_root(self) -> Deploy:
        if self.user == "root":
            raise ValueError("workers must not run as root; create a service user (e.g. celery) and name it here")
        return self


class Topology(Strict):
    version: Literal[1]
    app: AppPath
    broker: Broker
    defaults: Defaults = Defaults()
    queues: Annotated[dict[QueueName, QueueSpec], Field(min_length=1)]
    routes: dict[TaskPattern, Route] = {}
    pools: Annotated[dict[PoolName, Pool], Field(min_length=1)]
    beat: Beat | None = None
    deploy: Deploy | None = None
    # Named overlays merged over the rest of the file (`topology/environments.py`); a merged topology has none.
    environments: Annotated[
        dict[Name, dict[str, Any]],
        Field(
            description="named overlays (any keys of this file but version): maps merge key by key, lists are replaced, null removes a key"
        ),
    ] = {}
    _environment: str | None = PrivateAttr(default=None)
    _derived: Memo = PrivateAttr(default_factory=Memo)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        """`routes: {pattern: queue}` means `{pattern: {queue: queue}}`; an empty queue entry means `{}`."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("routes"), dict):
            data["routes"] = {k: {"queue": v} if isinstance(v, str) else v for k, v in data["routes"].items()}
        if isinstance(data.get("queues"), dict):
            data["queues"] = {k: {} if v is None else v for k, v in data["queues"].items()}
        return data

    @property
    def unit_prefix(self) -> str:
        """The name units and targets are called by: deploy.name, else the app's top package."""
        if self.deploy and self.deploy.name:
            return self.deploy.name
        return self.app.split(".")[0].split(":")[0].replace("_", "-").lower()

    @property
    def environment(self) -> str | None:
        """The environment merged into this topology (`--env`, CELERY_TOPOLOGY_ENV), None for the base file."""
        return self._environment

    @property
    def redis_url(self) -> str | None:
        """The Redis this deployment has: the broker if it is Redis, else a Redis result backend, else None."""
        for url in (self.broker.url, self.broker.result_backend or ""):
            if is_redis_url(url):
                return url
        return None

    def pool_hostname(self, name: str) -> str:
        return self.pools[name].hostname or f"{name}@%h"

    def consumers(self, queue: str) -> list[str]:
        """The pools that consume `queue`, in file order."""
        by_queue = self.derived("consumers", lambda t: grouped((q, n) for n, p in t.pools.items() for q in p.queues))
        return list(by_queue.get(queue, ()))

    def derived(self, name: str, build: Build[T]) -> T:
        """`build(self)`, computed once per Topology object and kept with it (an index, the router)."""
        return self._derived.computed(self, name, build)
