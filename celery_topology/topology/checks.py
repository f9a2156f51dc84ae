"""Rules that relate one part of a topology to another. Each has a stable code.

A rule takes the validated model and the parsed document (for places) and returns
problems; `run` collects them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from . import checks_real
from .beatlock import beat_rules
from .document import Document
from .errors import Problem
from .kubechecks import embedded_beat_replicas, kubernetes_pod_fit, kubernetes_pools
from .model import Topology
from .routing import longest_task_time_limit, longest_wait, merge_retry, route_limits, shadowing, shared_router

Rule = Callable[[Topology, Document], Iterator[Problem]]


def undeclared_queues(t: Topology, doc: Document) -> Iterator[Problem]:
    """Every queue named anywhere must be declared under `queues`."""

    def bad(queue: str | None) -> bool:
        return queue is not None and queue not in t.queues

    hint = f"declare it under queues (declared: {', '.join(t.queues)})"
    if bad(t.defaults.queue):
        yield doc.problem(
            ("defaults", "queue"), f"queue {t.defaults.queue!r} is not declared; {hint}", "queue-undeclared"
        )
    for key, route in t.routes.items():
        if bad(route.queue):
            yield doc.problem(
                ("routes", key, "queue"),
                f"route sends tasks to undeclared queue {route.queue!r}; {hint}",
                "queue-undeclared",
            )
    for name, pool in t.pools.items():
        for i, queue in enumerate(pool.queues):
            if bad(queue):
                yield doc.problem(
                    ("pools", name, "queues", i),
                    f"pool consumes undeclared queue {queue!r}; {hint}",
                    "queue-undeclared",
                )
    for name, entry in (t.beat.schedule if t.beat else {}).items():
        if bad(entry.queue):
            yield doc.problem(
                ("beat", "schedule", name, "queue"), f"undeclared queue {entry.queue!r}; {hint}", "queue-undeclared"
            )


def beat_unconsumed(t: Topology, doc: Document) -> Iterator[Problem]:
    """A periodic task must land on a queue some pool consumes."""
    router = shared_router(t)
    for name, entry in (t.beat.schedule if t.beat else {}).items():
        queue = entry.queue or router.resolve(entry.task).queue
        if queue in t.queues and not t.consumers(queue):
            yield doc.problem(
                ("beat", "schedule", name, "task"),
                f"task goes to queue {queue!r}, which no pool consumes; add it to a pool",
                "beat-unconsumed",
            )


def _time_limit_places(t: Topology) -> Iterator[tuple[tuple[str, ...], int | None, int | None, set[str]]]:
    """(path, effective soft limit, effective hard limit, the limit keys written there) for defaults, routes, pools.

    A route that inherits a limit from defaults does not repeat the defaults' problem: each problem is
    reported once, where the value is written.
    """
    keys = ("soft_time_limit", "time_limit")
    d = t.defaults
    yield ("defaults",), d.soft_time_limit, d.time_limit, {k for k in keys if getattr(d, k) is not None}
    for key, route in t.routes.items():
        yield ("routes", key), *route_limits(t, route), {k for k in keys if getattr(route, k) is not None}
    for name, pool in t.pools.items():
        yield ("pools", name), pool.soft_time_limit, pool.time_limit, {k for k in keys if getattr(pool, k) is not None}


def soft_below_hard(t: Topology, doc: Document) -> Iterator[Problem]:
    """The soft time limit must fire before the hard one, or the task never gets to clean up."""
    for path, soft, hard, written in _time_limit_places(t):
        if soft is not None and hard is not None and soft >= hard and written:
            yield doc.problem(
                (*path, "soft_time_limit" if "soft_time_limit" in written else "time_limit"),
                f"soft_time_limit ({soft}s) must be below time_limit ({hard}s); lower it",
                "soft-limit",
            )


def visibility_timeout(t: Topology, doc: Document) -> Iterator[Problem]:
    """On Redis, anything that waits or runs longer than the visibility timeout runs twice (said once, at its cause)."""
    if not t.broker.is_redis:
        return
    vt = t.broker.visibility_timeout
    fix = f"raise broker.visibility_timeout above it (now {vt}s) or shorten it"
    default_wait = longest_wait(merge_retry(t.defaults.retry, None))
    layers = [(("defaults",), t.defaults.retry)] + [(("routes", key), route.retry) for key, route in t.routes.items()]
    for path, layer in layers:
        if layer is None:
            continue
        wait = longest_wait(merge_retry(t.defaults.retry, layer))
        covered = path != ("defaults",) and t.defaults.retry is not None and vt < default_wait >= wait
        if wait > vt and not covered:  # a route no worse than the defaults' own problem: said once, there
            yield doc.problem(
                (*path, "retry"),
                f"a retry waits up to {wait}s, longer than the Redis visibility timeout: the task would run twice; {fix}",
                "visibility-timeout",
            )
    for place, _soft, hard, written in _time_limit_places(t):
        if hard is not None and hard > vt and "time_limit" in written:
            yield doc.problem(
                (*place, "time_limit"),
                f"time_limit {hard}s is longer than the Redis visibility timeout: a long task would run twice; {fix}",
                "visibility-timeout",
            )


def duplicate_hostnames(t: Topology, doc: Document) -> Iterator[Problem]:
    """Two pools with one worker name on one machine fight over it (Celery warns and drops one)."""
    seen: dict[str, tuple[str, set[str] | None]] = {}
    for name, pool in t.pools.items():
        hostname = t.pool_hostname(name)
        hosts = set(pool.hosts) if pool.hosts else None
        if hostname in seen:
            other, other_hosts = seen[hostname]
            if hosts is None or other_hosts is None or hosts & other_hosts:
                yield doc.problem(
                    ("pools", name, "hostname"),
                    f"worker hostname {hostname!r} is also pool {other!r}'s; give each pool its own",
                    "hostname-duplicate",
                )
        seen[hostname] = (name, hosts)


def beat_host(t: Topology, doc: Document) -> Iterator[Problem]:
    """beat.host and each of beat.hosts must be a machine that some pool runs on."""
    if t.beat is None:
        return
    hosts = {h for pool in t.pools.values() for h in pool.hosts or ()}
    places = [(("beat", "host"), t.beat.host)] + [(("beat", "hosts", i), h) for i, h in enumerate(t.beat.hosts or ())]
    for path, host in places:
        if hosts and host is not None and host not in hosts:
            yield doc.problem(path, f"host {host!r} runs no pool; pick one of {', '.join(sorted(hosts))}", "beat-host")


def shadowed_routes(t: Topology, doc: Document) -> Iterator[Problem]:
    """A pattern equal to an earlier one once `**` is read as `*` (error); one after `prefix*` that starts with `prefix` can never match (warning)."""
    for later, earlier, same in shadowing(t):
        if same:
            yield doc.problem(
                ("routes", later),
                f"same pattern as {earlier!r} to Celery ('**' is '*'): it would silently take that route's place; keep one",
                "route-duplicate-pattern",
                key=True,
            )
        else:
            yield doc.problem(
                ("routes", later),
                f"pattern can never match: {earlier!r} above it matches all its tasks; move it above or remove it",
                "route-shadowed",
                key=True,
                severity="warning",
            )


def glob_without_star(t: Topology, doc: Document) -> Iterator[Problem]:
    """Celery treats a key without `*` as an exact name, so `?` and `[...]` there are literal (warning)."""
    for key in t.routes:
        if "*" not in key and re.search(r"[?\[\]]", key):
            yield doc.problem(
                ("routes", key),
                "without '*' this key is an exact task name to Celery, so ? and [ ] match themselves",
                "route-exact-glob",
                key=True,
                severity="warning",
            )


def deploy_paths(t: Topology, doc: Document) -> Iterator[Problem]:
    """A `.` or `..` segment in a rendered path points somewhere else than it reads (`/srv/app/../../etc`)."""
    if t.deploy is None:
        return
    d = t.deploy
    fields = {"working_directory": d.working_directory, "environment_file": d.environment_file}
    fields["celery"] = d.celery.split(" ")[0] if d.celery.startswith("/") else None
    fields["topology_file"] = d.topology_file
    places: list[tuple[tuple[str | int, ...], str | None]] = [(("deploy", key), v) for key, v in fields.items()]
    places += [(("deploy", "hardening", "read_write_paths", i), v) for i, v in enumerate(d.hardening.read_write_paths)]
    for path, value in places:
        if value is not None and {".", ".."} & set(value.split("/")):
            yield doc.problem(
                path, f"{value!r} has a '.' or '..' segment; write the resolved absolute path", "deploy-path"
            )


def unenforced_time_limits(t: Topology, doc: Document) -> Iterator[Problem]:
    """Only the prefork and gevent pools enforce time limits; elsewhere a task runs past them (warning)."""
    for name, pool in t.pools.items():
        if pool.pool in ("threads", "solo", "eventlet"):
            for key in ("time_limit", "soft_time_limit"):
                if getattr(pool, key) is not None:
                    yield doc.problem(
                        ("pools", name, key),
                        f"the {pool.pool} pool does not enforce {key} (only prefork and gevent do): a task runs past it"
                        " until the unit's stop timeout kills it; use prefork or gevent, or limit the task itself",
                        "time-limit-unenforced",
                        severity="warning",
                    )


def overridden_pool_time_limits(t: Topology, doc: Document) -> Iterator[Problem]:
    """A task's own time_limit (its route's or the defaults', set by `configure`) wins over the pool's (warning).

    Celery's worker runs a task under `time_limit or task.time_limit` (celery/worker/request.py), the
    pool's --time-limit only when the task has none: a lower pool limit is not the ceiling it reads as.
    """
    for name, pool in t.pools.items():
        if pool.time_limit is None or pool.pool in ("threads", "solo", "eventlet"):
            continue  # no limit, or one not enforced at all (time-limit-unenforced says so)
        longest = longest_task_time_limit(t, pool.queues)
        if longest is not None and longest[0] > pool.time_limit:
            yield doc.problem(
                ("pools", name, "time_limit"),
                f"time_limit {pool.time_limit}s is below the {longest[0]}s its tasks get from {longest[1]}:"
                " Celery applies a task's own time_limit, so the pool's is not the ceiling;"
                " raise it or lower the task's",
                "pool-time-limit-overridden",
                severity="warning",
            )


def dead_letters_kept_nowhere(t: Topology, doc: Document) -> Iterator[Problem]:
    """Dead letters are asked for (the default) but neither broker nor result backend is a Redis to keep them."""
    default = t.defaults.dead_letter.when or "exhausted"
    routes = [r.dead_letter.when for r in t.routes.values() if r.dead_letter is not None]
    asked = any((when or default) != "off" for when in [default, *routes])  # a route's None: the defaults' when
    if asked and t.redis_url is None:
        yield doc.problem(
            ("broker", "result_backend") if t.broker.result_backend is not None else ("broker",),
            "dead letters need a Redis to be kept in, and neither the broker nor result_backend is one:"
            " a task that fails for good is dropped; give a Redis result_backend, or set defaults.dead_letter: off",
            "dead-letter-nowhere",
            severity="warning",
        )


RULES: tuple[Rule, ...] = (
    undeclared_queues,
    beat_unconsumed,
    soft_below_hard,
    visibility_timeout,
    duplicate_hostnames,
    beat_host,
    beat_rules,
    shadowed_routes,
    glob_without_star,
    deploy_paths,
    unenforced_time_limits,
    overridden_pool_time_limits,
    dead_letters_kept_nowhere,
    kubernetes_pools,
    embedded_beat_replicas,
    kubernetes_pod_fit,
    *checks_real.RULES,
)


def run(topology: Topology, doc: Document) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(topology, doc)]
