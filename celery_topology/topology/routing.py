"""Where a task goes: Celery's glob routing, compiled once, with the topology's defaults.

Celery's rule (`celery.app.routes.MapRoute`): a key without `*` is an exact task
name and wins wherever it stands; a key with `*` is an fnmatch pattern and the first
matching pattern in file order wins. Celery tries every pattern on every send. Here
patterns are indexed by their literal prefix (the text before the first glob
character): a lookup tries only the patterns whose prefix starts the task name, in
file order, so its cost depends on the name's length and not on the number of
routes (patterns that start with a glob character are candidates for every name).
Route keys found are also cached per task name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .model import RetryPolicy, Route, Topology
from .options import TASK_OPTIONS

_GLOB_CHAR = re.compile(r"[*?\[]")
RETRY_FALLBACK = RetryPolicy(max_retries=3, delay=180, backoff="fixed", max_delay=600, jitter=False, errors=[])


@dataclass(frozen=True)
class Resolution:
    """What the topology decides for one task name."""

    task: str
    pattern: str | None  # the route key that matched; None for the default
    queue: str
    priority: int
    retry: RetryPolicy  # every field set
    time_limit: int | None
    soft_time_limit: int | None
    options: dict[str, Any] = field(default_factory=dict)  # rate_limit, expires, acks_late...: those set


def literal_prefix(pattern: str) -> str:
    """The text before the first glob character: every name the pattern matches starts with it."""
    found = _GLOB_CHAR.search(pattern)
    return pattern[: found.start()] if found else pattern


def celery_pattern_order(keys: Iterable[str]) -> list[str]:
    """The glob keys in the order Celery tries them.

    Celery's MapRoute keys its patterns by compiled regex, and fnmatch collapses `**` to `*`:
    a later key with the same regex takes the earlier one's place (`*` then `**` -> `**` first).
    """
    slots: dict[str, int] = {}
    patterns: list[str] = []
    for key in keys:
        if "*" not in key:
            continue
        regex = fnmatch.translate(key)
        if regex in slots:
            patterns[slots[regex]] = key
        else:
            slots[regex] = len(patterns)
            patterns.append(key)
    return patterns


def is_celery_own(task: str) -> bool:
    """Celery's own tasks (celery.backend_cleanup, celery.chord_unlock...): routed, never given a retry policy."""
    return task.startswith("celery.")


def merge_retry(*layers: RetryPolicy | None) -> RetryPolicy:
    """Later layers override earlier ones key by key; unset keys fall back to RETRY_FALLBACK."""
    values = RETRY_FALLBACK.model_dump()
    for layer in layers:
        if layer is not None:
            values.update(layer.model_dump(exclude_none=True))
    return RetryPolicy(**values)


class Router:
    def __init__(self, topology: Topology, cache_size: int = 65536) -> None:
        self.topology = topology
        self.exact: frozenset[str] = frozenset(k for k in topology.routes if "*" not in k)
        self.patterns: list[str] = celery_pattern_order(topology.routes)
        self._matchers = [re.compile(fnmatch.translate(p)).match for p in self.patterns]
        by_prefix: dict[str, list[int]] = {}
        for i, pattern in enumerate(self.patterns):
            by_prefix.setdefault(literal_prefix(pattern), []).append(i)
        self._by_prefix = {prefix: tuple(found) for prefix, found in by_prefix.items()}
        self._prefix_lengths = sorted({len(prefix) for prefix in by_prefix})
        self.match = lru_cache(maxsize=cache_size)(self._match) if cache_size else self._match
        defaults = topology.defaults
        keyed: list[tuple[str | None, Route]] = [*topology.routes.items(), (None, Route())]
        self.destinations: dict[str | None, tuple[str, int]] = {
            key: (route.queue or defaults.queue, defaults.priority if route.priority is None else route.priority)
            for key, route in keyed
        }
        self._retry: dict[str | None, RetryPolicy] = {}

    def _match(self, task: str) -> str | None:
        """The route key that applies to `task`, or None: exactly Celery's answer."""
        if task in self.exact:
            return task
        by_prefix = self._by_prefix
        candidates: list[int] = []
        for length in self._prefix_lengths:
            if length > len(task):
                break
            candidates.extend(by_prefix.get(task[:length], ()))
        for i in sorted(candidates):
            if self._matchers[i](task):
                return self.patterns[i]
        return None

    def resolve(self, task: str) -> Resolution:
        """Everything the topology decides for `task`: its route, queue, priority, retry policy and time limits."""
        defaults = self.topology.defaults
        key = self.match(task)
        route = self.topology.routes[key] if key is not None else Route()
        if key not in self._retry:
            self._retry[key] = merge_retry(defaults.retry, route.retry)
        queue, priority = self.destinations[key]
        soft, hard = route_limits(self.topology, route)
        return Resolution(
            options=task_options(self.topology, route),
            task=task,
            pattern=key,
            queue=queue,
            priority=priority,
            retry=self._retry[key],
            time_limit=hard,
            soft_time_limit=soft,
        )


def route_limits(topology: Topology, route: Route) -> tuple[int | None, int | None]:
    """(soft, hard) time limit of the tasks `route` matches: its own, else the defaults'."""
    d = topology.defaults
    soft = route.soft_time_limit if route.soft_time_limit is not None else d.soft_time_limit
    hard = route.time_limit if route.time_limit is not None else d.time_limit
    return soft, hard


def task_options(topology: Topology, route: Route) -> dict[str, Any]:
    """The per-task options (`rate_limit`, `expires`, `acks_late`...) of the tasks `route` matches: its own, else the defaults'."""
    found = {}
    for name in TASK_OPTIONS:
        value = getattr(route, name)
        value = getattr(topology.defaults, name) if value is None else value
        if value is not None:
            found[name] = value
    return found


def task_time_limits(topology: Topology, queues: list[str]) -> list[tuple[int, str]]:
    """(hard time limit, where it comes from) of the tasks that land on `queues`.

    Celery's worker applies a task's own time_limit before the pool's --time-limit
    (celery/worker/request.py: `time_limit or task.time_limit`), and `configure` gives every task
    its route's or the defaults' limit. Counted: the defaults (for the default queue), every route
    to one of `queues`, every beat entry whose queue is one of them.
    """
    d = topology.defaults
    found = [(d.time_limit, "defaults")] if d.queue in queues else []
    for key, route in topology.routes.items():
        if (route.queue or d.queue) in queues:
            found.append((route_limits(topology, route)[1], f"route {key!r}"))
    router = Router(topology, cache_size=0)
    for name, entry in (topology.beat.schedule if topology.beat is not None else {}).items():
        resolved = router.resolve(entry.task)
        if (entry.queue or resolved.queue) in queues:
            found.append((resolved.time_limit, f"beat entry {name!r}"))
    return [(limit, where) for limit, where in found if limit is not None]


def longest_wait(policy: RetryPolicy) -> int:
    """The longest delay between two tries under a fully set `policy`, in seconds."""
    assert policy.delay is not None and policy.max_delay is not None and policy.max_retries is not None
    if policy.max_retries == 0:
        return 0
    if policy.backoff == "fixed":
        return policy.delay
    return int(min(policy.max_delay, policy.delay * 2 ** (policy.max_retries - 1)))
