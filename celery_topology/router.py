"""Where a task goes: Celery's glob routing, compiled once, with the topology's defaults.

Celery's rule (`celery.app.routes.MapRoute`): a key without `*` is an exact task
name and wins wherever it stands; a key with `*` is an fnmatch pattern and the first
matching pattern in file order wins. Here every pattern is joined into one regular
expression whose alternatives keep file order, and answers are cached per task name,
so a lookup does not walk the pattern list.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache

from .model import RetryPolicy, Route, Topology

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


def merge_retry(*layers: RetryPolicy | None) -> RetryPolicy:
    """Later layers override earlier ones key by key; unset keys fall back to RETRY_FALLBACK."""
    values = RETRY_FALLBACK.model_dump()
    for layer in layers:
        if layer is not None:
            values.update(layer.model_dump(exclude_none=True))
    return RetryPolicy(**values)


class Router:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.exact: dict[str, str] = {k: k for k in topology.routes if "*" not in k}
        self.patterns: list[str] = [k for k in topology.routes if "*" in k]
        joined = "|".join(f"(?P<p{i}>{fnmatch.translate(p)})" for i, p in enumerate(self.patterns))
        self._regex = re.compile(joined) if joined else None
        self.resolve = lru_cache(maxsize=65536)(self._resolve)

    def match(self, task: str) -> str | None:
        """The route key that applies to `task`, or None."""
        if task in self.exact:
            return task
        if self._regex is None:
            return None
        found = self._regex.match(task)
        if found is None or found.lastgroup is None:
            return None
        return self.patterns[int(found.lastgroup[1:])]

    def _resolve(self, task: str) -> Resolution:
        defaults = self.topology.defaults
        key = self.match(task)
        route = self.topology.routes[key] if key is not None else Route()
        return Resolution(
            task=task,
            pattern=key,
            queue=route.queue or defaults.queue,
            priority=route.priority if route.priority is not None else defaults.priority,
            retry=merge_retry(defaults.retry, route.retry),
            time_limit=route.time_limit if route.time_limit is not None else defaults.time_limit,
            soft_time_limit=route.soft_time_limit if route.soft_time_limit is not None else defaults.soft_time_limit,
        )


def longest_wait(policy: RetryPolicy) -> int:
    """The longest delay between two tries under a fully set `policy`, in seconds."""
    assert policy.delay is not None and policy.max_delay is not None and policy.max_retries is not None
    if policy.max_retries == 0:
        return 0
    if policy.backoff == "fixed":
        return policy.delay
    return int(min(policy.max_delay, policy.delay * 2 ** (policy.max_retries - 1)))
