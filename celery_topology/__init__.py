"""celery-topology: one topology.yaml as the single truth for a Celery deployment.

The data flows one way, and the packages say which stage each module belongs to:

- `topology/`: the file (loader, `${VAR}`, model, checks, schema, errors); no Celery import;
- `runtime/`: what runs inside a Celery process (settings, retry and task policies, dead-letter
  capture); imports Celery;
- `render/`: the files that run each pool (systemd, supervisor), and the one writer;
- `cluster/`: the live cluster (observation, health, doctor, dead-letter store); builds its
  Celery app with `runtime/`;
- `adopt/`: `celery-topology import`: reads an existing app (the only place that imports the
  application's code) into a topology, and verifies the two run the same;
- `cli/`: one module per command.

`load` and `TopologyError` never import Celery; `configure`, `celery_settings`, `priority` and
`workers_app` import what they need on first use, like every name here (`celery-topology probe`
must not pay for pydantic). `celery_config` is the deprecated name of `celery_settings` plus the
safe defaults.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster.health import workers_app
    from .runtime.config import celery_config, celery_settings, configure, priority
    from .topology.errors import Problem, TopologyError
    from .topology.model import Topology
    from .topology.validate import load

__all__ = [
    "Problem",
    "Topology",
    "TopologyError",
    "celery_config",
    "celery_settings",
    "configure",
    "load",
    "priority",
    "workers_app",
]

_RUNTIME = ("celery_config", "celery_settings", "configure", "priority")
# Everything is imported on first use: `celery-topology probe` (a liveness probe) imports the package
# and must not pay for pydantic.
_TOPOLOGY = {"Problem": "topology.errors", "TopologyError": "topology.errors", "Topology": "topology.model"}
_LAZY = {
    **_TOPOLOGY,
    "load": "topology.validate",
    **dict.fromkeys(_RUNTIME, "runtime.config"),
    "workers_app": "cluster.health",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(name)
