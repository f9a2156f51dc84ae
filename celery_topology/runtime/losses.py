"""Worker losses counted per task id: a task that kills its worker is dead-lettered, not redelivered forever.

With `acks_late` and `reject_on_worker_lost` (the safe defaults), a task whose pool child dies (the
OOM killer, a segfault, SIGKILL) is put back in its queue; one that kills its worker every time ran
forever (measured: 14 deliveries in 60 s). A message that comes back is marked redelivered (by the
broker on RabbitMQ, by kombu's restore on Redis), so a first delivery costs nothing here: its loss
shows as the redelivery. A redelivered run counts itself in the Redis store before it starts
(`celery-topology.runs.<task id>`, INCR) and uncounts itself when it ends in any way (DEL), so the
count a redelivery finds is the first delivery's lost run plus every redelivered run that did not
end. A whole worker killed counts too, once Redis redelivers after the visibility timeout. A delivery
that finds `max_worker_losses` lost runs (the route's, else the defaults', 3) does not run the task:
it fails with `WorkerLostTooOften`, which Celery stores as FAILURE and acknowledges, and it goes to the
dead-letter store as exhausted (unless its route says `dead_letter: off`).

A first delivery that came back without having started (held at a warm shutdown, as an ETA task or
prefetched, and put back) is counted as lost once: such a task that then kills its worker is
stopped one loss early. The price of the exact count was two Redis round trips for every task
(worker throughput 0.90 of plain Celery in `benchmarks/throughput.py`); now it is none.

Without a Redis store (a RabbitMQ broker and a result backend that is not Redis) nothing is counted:
such a task is redelivered until its cause is fixed, and `doctor` warns that there is no store.
A retry is a new run of the same id: the run that asked for it ended, so it starts from zero.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..topology.model import Topology
from . import deadletter
from .store import client, store_url

if TYPE_CHECKING:
    from celery import Task

RUNS_PREFIX = "celery-topology.runs."
DAY = 86400


class WorkerLostTooOften(Exception):
    """The worker running this task was lost under it `max_worker_losses` times; it is not run again."""


def max_worker_losses(topology: Topology, route_key: str | None) -> int:
    route = topology.routes.get(route_key) if route_key is not None else None
    if route is not None and route.max_worker_losses is not None:
        return route.max_worker_losses
    return topology.defaults.max_worker_losses


def guard(task: Task, topology: Topology, route_key: str | None) -> None:
    """Wrap `task.run` (outside Celery's autoretry wrapper) so that each run counts itself."""
    url = store_url(topology)
    if url is None:
        return
    limit = max_worker_losses(topology, route_key)
    seconds = max(DAY, (limit + 1) * topology.broker.visibility_timeout)  # outlives every redelivery
    run = task.run

    @functools.wraps(run)
    def counted(*args: Any, **kwargs: Any) -> Any:
        request = task.request
        redelivered = (request.delivery_info or {}).get("redelivered")
        if request.called_directly or request.is_eager or not task.acks_late or not redelivered:
            return run(*args, **kwargs)
        key, store = RUNS_PREFIX + str(request.id), client(url)
        pipe = store.pipeline()
        pipe.incr(key)
        pipe.expire(key, seconds)
        lost = int(pipe.execute()[0])  # the first delivery's run, and each counted run since that did not end
        try:
            if lost >= limit:
                exc = WorkerLostTooOften(
                    f"its worker was lost {lost} times while running it (killed by a signal, the OOM killer"
                    f" or a crash); max_worker_losses is {limit}: not run again"
                )
                deadletter.on_failure(task, str(request.id), exc, exhausted=True)
                raise exc
            return run(*args, **kwargs)
        finally:
            store.delete(key)

    task.run = counted
