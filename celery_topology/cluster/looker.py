"""One Celery app made from the topology, and the workers' answers shared by every endpoint.

A broadcast round (ping, then active_queues / active / reserved / scheduled / stats) costs the
workers CPU and the broker messages; a scraper or a load balancer polling every second must not
cause one each time. The answer is kept `cache` seconds; one lock keeps two requests from
broadcasting at once. Queue depth and age are not cached: they are one cheap broker read.
"""

from __future__ import annotations

import threading
from time import monotonic
from typing import Any

from ..topology.model import Topology
from .assess import Observation, WorkerView, assess
from .observe import make_app, observe, workers

DEFAULT_CACHE = 5.0  # seconds a broadcast round's answer is reused


class Looker:
    """Looks at the cluster through one app; broadcasts at most once per `cache` seconds."""

    def __init__(self, topology: Topology, timeout: float, cache: float = DEFAULT_CACHE) -> None:
        self.topology = topology
        self.timeout = timeout
        self.cache = cache
        self.app = make_app(topology)
        self.lock = threading.Lock()
        self.rounds = 0  # broadcast rounds asked since start
        self._answer: dict[str, WorkerView] | None = None
        self._asked = 0.0  # monotonic time the answer arrived

    def workers(self) -> dict[str, WorkerView]:
        """Who is online, with what they run: the cached answer while it is younger than `cache`."""
        with self.lock:
            if self._answer is None or monotonic() - self._asked >= self.cache:
                self._answer = workers(self.app, self.timeout)
                self._asked = monotonic()
                self.rounds += 1
            return self._answer

    def answer_age(self) -> float:
        """Seconds since the answer `workers()` returns arrived."""
        return monotonic() - self._asked

    def look(self) -> tuple[dict[str, Any], Observation]:
        obs = observe(self.topology, self.timeout, self.app, ask=self.workers)
        return assess(self.topology, obs), obs
