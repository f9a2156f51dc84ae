"""The pydantic model of topology.yaml, format version 1.

Every model forbids unknown keys, refuses to coerce types and is frozen. Grammar
rules for names live here; rules that relate one part of the file to another live
in `checks.py`.
"""

from __future__ import annotations

import builtins
import re
import zoneinfo
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

SUPPORTED_VERSION = 1

_DURATION = re.compile(r"^([0-9]+)(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> object:
    """`90`, `"90s"`, `"10m"`, `"2h"`, `"1d"` -> seconds; anything else is left for pydantic to refuse."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError("not a duration: write whole seconds (90) or a number with one unit: 90s, 10m, 2h, 1d")
        return int(match.group(1)) * _UNITS[match.group(2)]
    return value


class _Grammar:
    """Annotated metadata: accept strings fully matching `pattern`, name the first bad character,
    and give editors the same rule as a JSON Schema `pattern`."""

    def __init__(self, pattern: str, allowed: str, what: str) -> None:
        self.pattern = pattern
        self.compiled = re.compile(pattern)
        self.allowed_chars = re.compile(f"[{allowed}]")
        self.what = what

    def check(self, value: str) -> str:
        if self.compiled.fullmatch(value):
            return value
        bad = next((c for c in value if not self.allowed_chars.match(c)), None)
        if bad is not None:
            raise ValueError(f"{bad!r} is not allowed in {self.what}")
        raise ValueError(f"not {self.what}")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # A value that holds ${VAR} is checked after expansion, so editors accept any such string.
        return {**handler(schema), "pattern": f"^(?:{self.pattern})$|\\$\\{{"}


def _grammar(pattern: str, allowed: str, what: str) -> _Grammar:
    return _Grammar(pattern, allowed, what)


NAME_RULE = "1-32 characters of a-z, 0-9, '-' and '_', starting with a letter"
Name = Annotated[str, _grammar(r"[a-z][a-z0-9_-]{0,31}", "a-z0-9_-", f"a name ({NAME_RULE})")]
TaskName = Annotated[
    str,
    _grammar(r"[A-Za-z_][A-Za-z0-9_.-]{0,199}", "A-Za-z0-9_.-", "a task name (letters, digits, '_', '.', '-')"),
]
TaskPattern = Annotated[
    str,
    _grammar(
        r"[A-Za-z0-9_.*?!\[\]-]{1,200}",
        r"A-Za-z0-9_.*?!\[\]-",
        "a task name or pattern (letters, digits, '_', '.', '-', and the glob characters * ? [ ] !)",
    ),
]
AppPath = Annotated[
    str,
    _grammar(
        r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?",
        "A-Za-z0-9_.:",
        "a Python import path such as package.module or package.module:app",
    ),
]
WorkerHostname = Annotated[
    str,
    _grammar(
        r"[A-Za-z0-9_][A-Za-z0-9_.-]*(@([A-Za-z0-9_.-]|%[hndiI])+)?",  # never a leading '-': it is `-n`'s value
        "A-Za-z0-9_.@%-",
        "a worker hostname (name@host, not starting with '-' or '.'; % only in Celery's %h %n %d %i %I)",
    ),
]
HostName = Annotated[
    str,
    _grammar(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", "A-Za-z0-9.-", "a machine host name"),
]
UnixName = Annotated[
    str,
    _grammar(r"[a-z_][a-z0-9_-]{0,31}", "a-z0-9_-", "a user or group name"),
]
AbsPath = Annotated[
    str,
    _grammar(
        r"(/[A-Za-z0-9_.@+-]+)+",
        "A-Za-z0-9_.@+/-",
        "an absolute path (letters, digits, '_', '.', '@', '+', '-' between '/')",
    ),
]


def _builtin_if_bare(name: str) -> str:
    if "." not in name:
        obj = getattr(builtins, name, None)
        if not (isinstance(obj, type) and issubclass(obj, BaseException)):
            raise ValueError(
                f"{name!r} is not a builtin exception; name other exceptions by import path"
                " (e.g. requests.exceptions.ConnectionError)"
            )
    return name


ExceptionRef = Annotated[
    str,
    _grammar(
        r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*",
        "A-Za-z0-9_.",
        "an exception name (a builtin by bare name, others by import path)",
    ),
    AfterValidator(_builtin_if_bare),
]
MAX_SECONDS = 366 * 86400  # a year
Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    Field(ge=0, le=MAX_SECONDS),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_SECONDS},
                {"type": "string", "pattern": "^[0-9]+[smhd]$|\\$\\{"},
            ],
            "description": "seconds, or a number with one unit: 90s, 10m, 2h, 1d (at most a year)",
        }
    ),
]
Priority = Annotated[int, Field(ge=0, le=9)]


def _valid_port(url: str) -> str:
    """A port that clients would refuse at connect time is refused here (the URL is never echoed: it may hold a password)."""
    try:
        _ = urlsplit(url).port
    except ValueError:
        raise ValueError("the URL's port is not a number from 0 to 65535") from None
    return url


Url = Annotated[
    str,
    _grammar(r"[a-z][a-z0-9+]*://[^\s]*", r"^\s", "a URL such as redis://host:6379/0"),
    AfterValidator(_valid_port),
]


def url_scheme(url: str) -> str:
    return url.split("://", 1)[0]


def is_redis_url(url: str) -> bool:
    """redis://, rediss:// and redis+socket:// (a kombu Redis transport or a Redis result backend)."""
    return url_scheme(url).startswith("redis")


BROKER_SCHEMES = ("redis", "rediss", "redis+socket", "amqp", "amqps", "pyamqp", "memory")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RetryPolicy(Strict):
    """Retry settings; on a route, the keys given override `defaults.retry` one by one."""

    max_retries: Annotated[int, Field(ge=0, le=100)] | None = None
    delay: Duration | None = None
    backoff: Literal["exponential", "fixed"] | None = None
    max_delay: Duration | None = None
    jitter: bool | None = None
    errors: list[ExceptionRef] | None = None


class Broker(Strict):
    url: Url
    result_backend: Url | None = None
    visibility_timeout: Duration = 3600

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        scheme = url_scheme(url)
        if scheme not in BROKER_SCHEMES:
            raise ValueError(f"broker scheme {scheme!r} is not supported; use one of {', '.join(BROKER_SCHEMES)}")
        return url

    @property
    def is_redis(self) -> bool:
        return is_redis_url(self.url)


# What reaches the dead-letter store (`celery-topology dead`): tasks whose retries are used up,
# every failed task (non-retryable errors too), or nothing.
DeadLetter = Literal["exhausted", "any_failure", "off"]


class Defaults(Strict):
    queue: Name = "default"
    priority: Priority = 5
    time_limit: Duration | None = None
    soft_time_limit: Duration | None = None
    retry: RetryPolicy | None = None
    dead_letter: DeadLetter = "exhausted"


class QueueSpec(Strict):
    # RabbitMQ x-max-priority (0: a plain queue, priorities ignored); Redis ignores it.
    # Changing it on an existing RabbitMQ queue needs the queue deleted first (PRECONDITION_FAILED).
    max_priority: Annotated[int, Field(ge=0, le=255)] = 9


class Route(Strict):
    queue: Name | None = None
    priority: Priority | None = None
    retry: RetryPolicy | None = None
    time_limit: Duration | None = None
    soft_time_limit: Duration | None = None
    dead_letter: DeadLetter | None = None


class Autoscale(Strict):
    min: Annotated[int, Field(ge=0, le=1024)]
    max: Annotated[int, Field(ge=1, le=1024)]

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError("autoscale min is above max; swap them")
        return self


def _each_once(queues: list[str]) -> list[str]:
    twice = next((q for i, q in enumerate(queues) if q in queues[:i]), None)
    if twice is not None:
        raise ValueError(f"queue {twice!r} is listed twice; list each once")
    return queues


class Pool(Strict):
    queues: Annotated[list[Name], Field(min_length=1), AfterValidator(_each_once)]
    concurrency: Annotated[int, Field(ge=1, le=1024)] | None = None
    hostname: WorkerHostname | None = None
    pool: Literal["prefork", "threads", "solo", "gevent", "eventlet"] = "prefork"
    autoscale: Autoscale | None = None
    prefetch_multiplier: Annotated[int, Field(ge=1, le=1000)] | None = None
    max_tasks_per_child: Annotated[int, Field(ge=1)] | None = None
    max_memory_per_child: Annotated[int, Field(ge=1)] | None = None
    time_limit: Duration | None = None
    soft_time_limit: Duration | None = None
    loglevel: Literal["debug", "info", "warning", "error", "critical"] = "info"
    hosts: list[HostName] | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Pool:
        if self.concurrency is not None and self.autoscale is not None:
            raise ValueError("give either concurrency or autoscale, not both (autoscale max is the ceiling)")
        return self


_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_PART = re.compile(r"(\*|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?")


def check_cron(line: str) -> str:
    """A 5-field cron line (minute hour day-of-month month day-of-week), returned single-spaced."""
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), this one has {len(fields)}")
    for text, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            match = _CRON_PART.fullmatch(part)
            if not match or match.group(4) == "0" or (match.group(4) and match.group(4).startswith("0")):
                raise ValueError(f"cron {what} field {text!r} is not valid")
            for value in filter(None, match.group(2, 3)):
                if value in names:
                    number = names.index(value) + (low if what == "month" else 0)
                elif value.isdigit():
                    number = int(value)
                else:
                    raise ValueError(f"cron {what} field {text!r} is not valid")
                if not low <= number <= high:
                    raise ValueError(f"cron {what} {value!r} is outside {low}..{high}")
    return " ".join(fields)


class BeatEntry(Strict):
    task: TaskName
    cron: Annotated[str, AfterValidator(check_cron)] | None = None
    every: Duration | None = None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    queue: Name | None = None
    priority: Priority | None = None
    expires: Duration | None = None

    @model_validator(mode="after")
    def _one_schedule(self) -> BeatEntry:
        if (self.cron is None) == (self.every is None):
            raise ValueError('give exactly one of cron (e.g. "0 2 * * *") or every (e.g. 1h)')
        if self.every == 0:
            raise ValueError("every must be at least 1s")
        return self


def _check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as UTC or Europe/Berlin") from None
    return name


class Beat(Strict):
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    schedule: dict[Name, BeatEntry] = {}
    host: HostName | None = None


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
    celery: AbsPath
    environment_file: AbsPath | None = None
    topology_file: AbsPath | None = None  # CELERY_TOPOLOGY_FILE of the units; default <working_directory>/topology.yaml
    flower: Flower = Flower()
    hardening: Hardening = Hardening()

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
    queues: Annotated[dict[Name, QueueSpec], Field(min_length=1)]
    routes: dict[TaskPattern, Route] = {}
    pools: Annotated[dict[Name, Pool], Field(min_length=1)]
    beat: Beat | None = None
    deploy: Deploy | None = None

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

    def pool_hostname(self, name: str) -> str:
        return self.pools[name].hostname or f"{name}@%h"

    def consumers(self, queue: str) -> list[str]:
        """The pools that consume `queue`, in file order."""
        return [name for name, pool in self.pools.items() if queue in pool.queues]
