"""celery-topology: one topology.yaml as the single truth for a Celery deployment.

`load` and `TopologyError` never import Celery; `celery_config` and `configure` do,
on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Problem, TopologyError
from .model import Topology
from .validate import load

if TYPE_CHECKING:
    from .celery_config import celery_config, configure

__all__ = ["Problem", "Topology", "TopologyError", "celery_config", "configure", "load"]


def __getattr__(name: str) -> Any:
    if name in ("celery_config", "configure"):
        from . import celery_config as module

        return getattr(module, name)
    raise AttributeError(name)
