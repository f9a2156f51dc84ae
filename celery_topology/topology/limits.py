"""How long a task of a pool can run: the rule behind stop timeouts, grace periods and probe windows."""

from __future__ import annotations

from .model import Pool, Topology
from .routing import longest_task_time_limit

DRAIN_FALLBACK = 600  # seconds granted to a pool whose tasks have no time limit at all
KOMBU_RETRY_MAX = 30  # the longest wait between a worker's broker reconnect attempts (kombu's interval_max)
CONNECT_TIMEOUT = 4  # Celery's broker_connection_timeout default: one attempt may take this long


def longest_time_limit(topology: Topology, pool: Pool) -> int | None:
    """The longest hard time limit a task run by `pool` can have, in seconds; None if no task has one.

    The pool's own limit, the defaults' (any task can be sent to any queue), and those of the tasks
    routed to its queues (`routing.longest_task_time_limit`): Celery applies a task's own limit first.
    """
    limits = [pool.time_limit, topology.defaults.time_limit]
    routed = longest_task_time_limit(topology, pool.queues)
    limits += [routed[0]] if routed is not None else []
    known = [limit for limit in limits if limit is not None]
    return max(known) if known else None


def longest_task(topology: Topology, pool: Pool) -> int:
    """Seconds a running task of `pool` may hold on: its longest time limit, else DRAIN_FALLBACK."""
    longest = longest_time_limit(topology, pool)
    return DRAIN_FALLBACK if longest is None else longest


def loop_hold(topology: Topology, pool: Pool) -> int:
    """Seconds a running task may keep the worker's consumer loop from beating: a solo pool runs its
    task inside the loop (up to the longest time limit); every other pool runs tasks beside it."""
    return longest_task(topology, pool) if pool.pool == "solo" else 0


def watchdog_seconds(topology: Topology, pool: Pool) -> int | None:
    """systemd's WatchdogSec= for an opted-in pool: its `watchdog`, plus the longest time a healthy worker
    goes without a beat (a solo task, or the wait between reconnect attempts during a broker outage)."""
    if pool.watchdog is None:
        return None
    return pool.watchdog + max(loop_hold(topology, pool), KOMBU_RETRY_MAX + CONNECT_TIMEOUT)
