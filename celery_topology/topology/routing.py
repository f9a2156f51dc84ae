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
from collections.abc import Callable, Iterable, Iterator
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


def celery_patterns(translated: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{regex: glob key} of (glob key, its regex) pairs, in the order Celery tries them.

    Celery's MapRoute keys its patterns by compiled regex, and fnmatch collapses `**` to `*`:
    a later key with the same regex takes the earlier one's place (`*` then `**` -> `**` first).
    A dict does just that: a regex keeps its first place and takes its last key.
    """
    patterns: dict[str, str] = {}
    for key, regex in translated:
        patterns[regex] = key
    return patterns


def glob_regexes(topology: Topology) -> dict[str, str]:
    """{glob route key: its fnmatch regex} in file order, translated once per topology."""
    return topology.derived("glob_regexes", lambda t: {k: fnmatch.translate(k) for k in t.routes if "*" in k})


def shadowing(topology: Topology) -> Iterator[tuple[str, str, bool]]:
    """(glob key, the first earlier glob key that takes its tasks, whether the two are one pattern to Celery).

    Earlier means above it in the file; it takes the later key's tasks if Celery reads both as one
    regex (`**` is `*`), or if it is `literal*` and `literal` starts the later key. Each key is
    translated once and the earlier ones are looked up (by regex, by each prefix), not scanned.
    """
    first_by_regex: dict[str, tuple[int, str]] = {}
    first_by_prefix: dict[str, tuple[int, str]] = {}  # literal -> first key `literal*`
    for i, (later, regex) in enumerate(glob_regexes(topology).items()):
        same = first_by_regex.setdefault(regex, (i, later))
        covering = [first_by_prefix[later[:n]] for n in range(len(later) + 1) if later[:n] in first_by_prefix]
        cover = min(covering, default=(i, later))
        if same[0] < i and same[0] <= cover[0]:  # of one earlier key that is both, the duplicate is said
            yield later, same[1], True
        elif cover[0] < i:
            yield later, cover[1], False
        if later.endswith("*") and literal_prefix(later[:-1]) == later[:-1]:
            first_by_prefix.setdefault(later[:-1], (i, later))


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
        by_regex = celery_patterns(glob_regexes(topology).items())
        self.patterns: list[str] = list(by_regex.values())
        self._regexes = list(by_regex)
        self._matchers: list[Callable[[str], object] | None] = [None] * len(self._regexes)  # compiled on first use
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
            matcher = self._matchers[i]
            if matcher is None:
                matcher = self._matchers[i] = re.compile(self._regexes[i]).match
            if matcher(task):
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


def shared_router(topology: Topology) -> Router:
    """The topology's one Router, built on first use and shared by the checks, the plan and explain."""
    return topology.derived("router", Router)


def longest_task_time_limit(topology: Topology, queues: list[str]) -> tuple[int, str] | None:
    """(hard time limit, where it comes from) of the longest-running task that lands on `queues`; None if none has one.

    Celery's worker applies a task's own time_limit before the pool's --time-limit
    (celery/worker/request.py: `time_limit or task.time_limit`), and `configure` gives every task
    its route's or the defaults' limit. Counted: the defaults (for the default queue), every route
    to one of `queues`, every beat entry whose queue is one of them; of equal limits, the first of
    those in that order.
    """
    longest = topology.derived("longest_time_limits", _longest_time_limits)
    found = [longest[queue] for queue in queues if queue in longest]
    if not found:
        return None
    limit, _, where = max(found, key=lambda item: (item[0], -item[1]))
    return limit, where


def _longest_time_limits(topology: Topology) -> dict[str, tuple[int, int, str]]:
    """Per queue: (longest hard limit, its place in the order of `longest_task_time_limit`, where from)."""
    d = topology.defaults
    places: list[tuple[str, int | None, str]] = [(d.queue, d.time_limit, "defaults")]
    places += [
        (route.queue or d.queue, route_limits(topology, route)[1], f"route {key!r}")
        for key, route in topology.routes.items()
    ]
    shared = shared_router(topology)
    for name, entry in (topology.beat.schedule if topology.beat is not None else {}).items():
        resolved = shared.resolve(entry.task)
        places.append((entry.queue or resolved.queue, resolved.time_limit, f"beat entry {name!r}"))
    longest: dict[str, tuple[int, int, str]] = {}
    for position, (queue, limit, where) in enumerate(places):
        if limit is not None and (queue not in longest or limit > longest[queue][0]):
            longest[queue] = (limit, position, where)
    return longest


def longest_wait(policy: RetryPolicy) -> int:
    """The longest delay between two tries under a fully set `policy`, in seconds."""
    assert policy.delay is not None and policy.max_delay is not None and policy.max_retries is not None
    if policy.max_retries == 0:
        return 0
    if policy.backoff == "fixed":
        return policy.delay
    return int(min(policy.max_delay, policy.delay * 2 ** (policy.max_retries - 1)))
