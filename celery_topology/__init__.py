"""celery-topology: one topology.yaml as the single truth for a Celery deployment.

`load` and `TopologyError` never import Celery; `celery_config` and `configure` do,
on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import Problem, TopologyError
from .model import Topology
from .validate import load

if TYPE_CHECKING:
    from .celery_config import celery_config, configure

__all__ = ["Problem", "Topology", "TopologyError", "celery_config", "configure", "load"]


def __getattr__(name: str) -> Any:
    if name in ("celery_config", "configure"):
        # The submodule shares the function's name: importing it binds the module here, so rebind both names.
        module = importlib.import_module(f"{__name__}.celery_config")
        globals().update(celery_config=module.celery_config, configure=module.configure)
        return globals()[name]
    raise AttributeError(name)
