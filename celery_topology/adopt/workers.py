"""Pools from `celery worker` command lines, or one pool consuming every queue."""

from __future__ import annotations

import re
import shlex
from typing import Any

from .draft import Draft, Unreadable

# option (long and short forms) -> pool key; values are read as Celery's worker reads them
OPTIONS = {
    "-Q": "queues",
    "--queues": "queues",
    "-c": "concurrency",
    "--concurrency": "concurrency",
    "-n": "hostname",
    "--hostname": "hostname",
    "-P": "pool",
    "--pool": "pool",
    "--autoscale": "autoscale",
    "--prefetch-multiplier": "prefetch_multiplier",
    "--max-tasks-per-child": "max_tasks_per_child",
    "--max-memory-per-child": "max_memory_per_child",
    "--time-limit": "time_limit",
    "--soft-time-limit": "soft_time_limit",
    "-l": "loglevel",
    "--loglevel": "loglevel",
    "-O": "optimization",
    "--optimization": "optimization",
}
# options without a value -> the pool key they turn on
SWITCHES = {
    "-B": "beat",
    "--beat": "beat",
    "-E": "events",
    "--task-events": "events",
    "--without-gossip": "without_gossip",
    "--without-mingle": "without_mingle",
    "--without-heartbeat": "without_heartbeat",
}
INTEGERS: tuple[str, ...] = ("concurrency", "prefetch_multiplier", "max_tasks_per_child", "max_memory_per_child")
INTEGERS += ("time_limit", "soft_time_limit")


def _pairs(words: list[str]) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and "=" in word:
            option, value = word.split("=", 1)
            pairs.append((option, value))
        elif word in OPTIONS and i + 1 < len(words):
            pairs.append((word, words[i + 1]))
            i += 1
        elif word.startswith("-") and word[:2] in OPTIONS and len(word) > 2:
            pairs.append((word[:2], word[2:]))
        else:
            pairs.append((word, None))
        i += 1
    return pairs


def _whole(line: str, option: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Unreadable(f"--worker {line!r}: {option} takes a whole number, not {value!r}") from None


def pool_from_command(line: str, default_queue: str, draft: Draft) -> dict[str, Any]:
    """One pool from `celery -A app worker -Q a,b -c 4 -n name@%h ...`; its options over the app's worker settings."""
    words = shlex.split(line)
    after = words[words.index("worker") + 1 :] if "worker" in words else words
    pool: dict[str, Any] = {"queues": [default_queue], **draft.pool_defaults}  # no -Q: the app's queues
    if words[:2] == ["nice", "-n"] and len(words) > 2:  # `nice -n 10 celery ... worker`: the pool's niceness
        pool["nice"] = _whole(line, "nice -n", words[2])
    for option, value in _pairs(after):
        if option in SWITCHES and value is None:
            pool[SWITCHES[option]] = True
            continue
        key = OPTIONS.get(option)
        if key is None or value is None:
            draft.refuse(f"worker {line!r}: {option} is not kept in the pool; add it by hand")
            continue
        if key == "queues":
            pool["queues"] = [q for q in value.split(",") if q]
        elif key == "autoscale":
            high, _, low = value.partition(",")
            pool["autoscale"] = {"min": _whole(line, option, low or "0"), "max": _whole(line, option, high)}
            pool.pop("concurrency", None)  # the app's worker_concurrency; autoscale's max is the ceiling
        elif key in INTEGERS:
            pool[key] = _whole(line, option, value)
        else:
            pool[key] = value.lower() if key == "loglevel" else value
    return pool


def pool_name(pool: dict[str, Any], taken: set[str]) -> str:
    base = re.sub(r"%[hnd]", "", str(pool.get("hostname", "")).split("@")[0]) or pool["queues"][0]
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in base.lower()).strip("-_") or "pool"
    if not name[0].isalpha():
        name = f"pool-{name}"
    candidate, n = name[:32], 2
    while candidate in taken:
        candidate, n = f"{name[:29]}-{n}", n + 1
    return candidate


def read_pools(commands: list[str], queues: list[str], default_queue: str, draft: Draft) -> dict[str, Any]:
    if not commands:
        draft.note(("pools",), "one pool consumes every queue: split it by --worker command lines or by hand")
        return {"all": {**draft.pool_defaults, "queues": list(queues)}}
    pools: dict[str, Any] = {}
    for line in commands:
        pool = pool_from_command(line, default_queue, draft)
        pools[pool_name(pool, set(pools))] = pool
    return pools
