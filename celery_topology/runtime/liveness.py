"""The worker's heartbeat: a consumer bootstep that `configure(app)` installs.

From the consumer's own event loop (a repeating entry on its timer, which only that loop fires) it
refreshes the worker's heartbeat file and, under systemd, sends WATCHDOG=1. The loop stops beating
when it stops running: a worker wedged after a reconnect, or busy in a solo task, goes stale.
The step's start/stop (Celery calls them when the broker connection comes and goes) record whether
the broker is connected. While Celery's reconnect loop retries a lost broker, each retry it logs
beats too (connected: false, and a hold of the longest wait between retries): the worker is live,
not ready. `runtime/heartbeat.py` reads the file.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from celery import bootsteps

from ..topology.limits import KOMBU_RETRY_MAX, loop_hold
from ..topology.model import Topology
from . import heartbeat

if TYPE_CHECKING:
    from celery import Celery

INTERVAL = 5.0  # seconds between beats; CELERY_TOPOLOGY_PROBE_INTERVAL overrides
POOL_VARIABLE = "CELERY_TOPOLOGY_POOL"  # set by the rendered units and manifests
RECONNECT_LOGGER = "celery.worker.consumer.consumer"  # Celery logs each connection retry here


def pool_of(topology: Topology, queues: set[str]) -> str | None:
    """The worker's pool: $CELERY_TOPOLOGY_POOL, else the pool that consumes exactly these queues."""
    named = os.environ.get(POOL_VARIABLE)
    if named in topology.pools:
        return named
    return next((name for name, pool in topology.pools.items() if set(pool.queues) == queues), None)


def interval() -> float:
    """Beat interval: $CELERY_TOPOLOGY_PROBE_INTERVAL, else INTERVAL, at most a third of systemd's watchdog."""
    seconds = float(os.environ.get("CELERY_TOPOLOGY_PROBE_INTERVAL") or INTERVAL)
    watchdog = os.environ.get("WATCHDOG_USEC")
    return min(seconds, int(watchdog) / 3e6) if watchdog else seconds


class Heartbeat(bootsteps.StartStopStep):  # type: ignore[misc]
    """Beats from the consumer loop; `topology` is bound by `install`."""

    label = "Heartbeat"
    requires = ("celery.worker.consumer.tasks:Tasks",)  # started once the task consumer runs
    topology: Topology

    def __init__(self, c: Any, **kwargs: Any) -> None:
        super().__init__(c, **kwargs)
        queues = set(c.app.amqp.queues.consume_from or c.app.amqp.queues)
        pool = pool_of(self.topology, queues)
        spec = self.topology.pools.get(pool) if pool else None
        self.hold = loop_hold(self.topology, spec) if spec else 0
        # While reconnecting, beats come once per retry: allow the longest wait between two retries.
        self.retry_gap = KOMBU_RETRY_MAX + int(c.app.conf.broker_connection_timeout or 0)
        os.makedirs(heartbeat.directory(), exist_ok=True)
        self.path = heartbeat.path_for(pool or c.hostname.replace("/", "_"))
        self.connected = False
        self.notified_ready = False
        self.entry: Any = None
        logging.getLogger(RECONNECT_LOGGER).addHandler(_Retrying(self))

    def beat(self) -> None:
        hold = self.hold if self.connected else max(self.hold, self.retry_gap)
        heartbeat.write(self.path, connected=self.connected, hold=hold)
        if not self.notified_ready:
            self.notified_ready = heartbeat.notify("READY=1")
        heartbeat.notify("WATCHDOG=1")

    def start(self, c: Any) -> None:
        self.connected = True
        self.beat()
        self.entry = c.timer.call_repeatedly(interval(), self.beat)

    def stop(self, c: Any) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None
        self.connected = False
        self.beat()

    def shutdown(self, c: Any) -> None:
        self.stop(c)
        if os.path.exists(self.path):
            os.unlink(self.path)


class _Retrying(logging.Handler):
    """Celery's reconnect loop logs every retry: each is a beat of a worker that is live but not connected."""

    def __init__(self, step: Heartbeat) -> None:
        super().__init__(logging.WARNING)
        self.step = step

    def emit(self, record: logging.LogRecord) -> None:
        if not self.step.connected:
            self.step.beat()


def install(app: Celery, topology: Topology) -> None:
    """Add the heartbeat step to `app`'s worker consumer."""
    step = type("Heartbeat", (Heartbeat,), {"topology": topology})
    app.steps["consumer"].add(step)
