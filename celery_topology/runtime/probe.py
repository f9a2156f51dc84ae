"""A worker bootstep that reports, in `inspect stats`, the topology the worker loaded.

`configure(app)` records the topology's fingerprint in `app.conf` and adds this step; each worker's
stats then carry `{"topology": {"checksum": ...}}`, and `status` names the workers whose checksum
differs from the file on disk: they run an older version and need a restart.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, bootsteps

from ..topology.fingerprint import fingerprint
from ..topology.model import Topology

CONF_KEY = "celery_topology_checksum"


class TopologyProbe(bootsteps.StartStopStep):  # type: ignore[misc]  # only these land in worker.steps
    """Adds the loaded topology's checksum to the worker's `inspect stats` reply."""

    def info(self, worker: Any) -> dict[str, Any]:
        return {"topology": {"checksum": worker.app.conf.get(CONF_KEY)}}


def install(app: Celery, topology: Topology) -> None:
    app.conf[CONF_KEY] = fingerprint(topology)
    app.steps["worker"].add(TopologyProbe)
