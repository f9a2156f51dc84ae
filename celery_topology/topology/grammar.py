"""The grammar of single values in topology.yaml: names, durations, priorities, URLs, exception refs.

Each is an `Annotated` type that pydantic validates and that gives editors the same rule
as a JSON Schema `pattern`. Rules that relate one part of the file to another live in
`checks.py`.
"""

from __future__ import annotations

import builtins
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

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
# Queue names as Celery and the brokers take them: printable ASCII (AMQP allows 255 bytes; Redis keys
# anything) without the ',' that splits `-Q`, blanks, or '\\'; `amq.` is RabbitMQ's reserved prefix.
_QUEUE_CHARS = r"!-+\--\[\]-~"
QueueName = Annotated[
    str,
    _grammar(
        rf"(?!amq\.)[{_QUEUE_CHARS}]{{1,200}}",
        _QUEUE_CHARS,
        "a queue name (1-200 printable characters without blanks, ',' or '\\', not starting with 'amq.')",
    ),
]
# Beat entry names are free text: never in a unit or a command line, only in Celery's schedule and reports.
_PRINTABLE = r"^\x00-\x1f\x7f-\x9f\u2028\u2029"
BeatName = Annotated[
    str, _grammar(rf"[{_PRINTABLE}]{{1,200}}", _PRINTABLE, "a beat entry name (1-200 printable characters)")
]
# Pool names become unit and program names.
PoolName = Annotated[
    str,
    _grammar(
        r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
        "A-Za-z0-9_.-",
        "a pool name (1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)",
    ),
]
_NODE_PART = r"([A-Za-z0-9_.-]|%[hndiI])+"
WorkerHostname = Annotated[
    str,
    _grammar(
        rf"(?=.{{1,200}}$)(?![-.]){_NODE_PART}(@{_NODE_PART})?",  # never a leading '-': it is `-n`'s value
        "A-Za-z0-9_.@%-",
        "a worker hostname (name@host or a name alone as Celery takes them, not starting with '-' or '.';"
        " % only in Celery's %h %n %d %i %I)",
    ),
]
# Files Celery writes (--pidfile, --logfile, --statedb): absolute, with Celery's own %n %I... specifiers.
CeleryFile = Annotated[
    str,
    _grammar(
        r"(/([A-Za-z0-9_.@+-]|%[nhdiIp])+)+",
        "A-Za-z0-9_.@+%/-",
        "an absolute path (letters, digits, '_', '.', '@', '+', '-' between '/'; % only in Celery's %n %I %i %h %d %p)",
    ),
]
EnvName = Annotated[str, _grammar(r"[A-Za-z_][A-Za-z0-9_]{0,127}", "A-Za-z0-9_", "an environment variable name")]
# Written quoted into systemd's Environment= and supervisor's environment=: no quote, backslash or comment character.
EnvValue = Annotated[
    str,
    _grammar(
        r"[^\x00-\x1f\x7f\"\\;#]{0,1000}", r"^\x00-\x1f\x7f\"\\;#", "an environment value (no quotes, '\\', ';' or '#')"
    ),
]
# Celery's rate limit: tasks per second, minute or hour (`10/s`, `1/m`, `0.5/h`; a bare number is per second).
RateLimit = Annotated[
    str, _grammar(r"[0-9]+(\.[0-9]+)?(/[smh])?", "0-9./smh", "a rate limit such as 10/s, 1/m or 100/h")
]
# At least one character: Celery binds a queue declared with an empty key with task_default_routing_key instead.
RoutingKey = Annotated[
    str,
    _grammar(r"[ -~]{1,255}", " -~", "a routing key (1-255 printable ASCII; leave it out for the queue's name)"),
]
# `package.module:attr` or `package.module.Attr`, as Celery takes both; checked for syntax only.
ImportPath = AppPath
HostName = Annotated[
    str,
    _grammar(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", "A-Za-z0-9.-", "a machine host name"),
]
UnixName = Annotated[
    str,
    _grammar(r"[a-z_][a-z0-9_-]{0,31}", "a-z0-9_-", "a user or group name"),
]
# deploy.celery: an absolute path or a command (`uv run celery`, `python -m celery`), words split by one space.
Command = Annotated[
    str,
    _grammar(
        r"((/[A-Za-z0-9_.@+-]+)+|[A-Za-z0-9_.+-]+)( [A-Za-z0-9_.@+/=:-]+)*",
        "A-Za-z0-9_.@+/=: -",
        "an absolute path or a command such as `uv run celery` (words of letters, digits, '_', '.', '@', '+', '/', '=', ':', '-')",
    ),
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


def _duration_schema(minimum: int, more: str = "") -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": minimum, "maximum": MAX_SECONDS},
                {"type": "string", "pattern": "^[0-9]+[smhd]$|\\$\\{"},
            ],
            "description": f"seconds, or a number with one unit: 90s, 10m, 2h, 1d (at most a year){more}",
        }
    )


Duration = Annotated[int, BeforeValidator(parse_duration), Field(ge=0, le=MAX_SECONDS), _duration_schema(0)]


def _limit_not_zero(seconds: int) -> int:
    if seconds == 0:
        raise ValueError(
            "a time limit of 0 means no limit to Celery; leave the key out for no limit, or give 1s or more"
        )
    return seconds


# A task time limit: Celery reads 0 as "no limit", which every derived value (stop timeouts) would misread.
TimeLimit = Annotated[Duration, AfterValidator(_limit_not_zero), _duration_schema(1, "; 0 is refused: leave it out")]


def _loop_not_zero(seconds: int) -> int:
    if seconds == 0:
        raise ValueError(
            "a loop interval of 0 is no interval to Celery: beat would sleep up to its 300s default (a redbeat lock"
            " would lapse between ticks); leave the key out for the default, or give 1s or more"
        )
    return seconds


# beat's longest sleep: Celery reads 0 as "not set" and sleeps up to 300 s, which the lock rules would misread.
LoopInterval = Annotated[Duration, AfterValidator(_loop_not_zero), _duration_schema(1, "; 0 is refused: leave it out")]

PositiveDuration = Annotated[int, BeforeValidator(parse_duration), Field(ge=1, le=MAX_SECONDS), _duration_schema(1)]
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


# A result backend: a URL, or an alias alone (`django-db`, `django-cache`, `disabled`).
BackendUrl = Annotated[
    str,
    _grammar(
        r"[a-z][a-z0-9+_-]*(://[^\s]*)?",
        r"^\s",
        "a result backend such as redis://host:6379/1, rpc://, db+postgresql://... or django-db",
    ),
    AfterValidator(_valid_port),
]


def url_scheme(url: str) -> str:
    return url.split("://", 1)[0]


def is_redis_url(url: str) -> bool:
    """redis://, rediss:// and redis+socket:// (a kombu Redis transport or a Redis result backend)."""
    return url_scheme(url).startswith("redis")
