"""What the run scripts share: find the topology, validate it, exec `celery` with the examples importable."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from celery_topology import Topology, TopologyError, load
from celery_topology.topology.environments import UnknownEnvironment, selected
from celery_topology.topology.validate import topology_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def topology_for_scripts() -> tuple[Path, Topology]:
    """The topology as the CLI finds it (CELERY_TOPOLOGY_FILE, else ./topology.yaml; CELERY_TOPOLOGY_ENV's environment
    merged, as `configure(app)` in the process it starts merges it), validated (exit 1 with every problem)."""
    path = topology_path()
    try:
        return path.resolve(), load(path, env=selected())
    except (TopologyError, UnknownEnvironment) as exc:
        sys.exit(str(exc))


def celery_binary() -> str:
    """The `celery` beside this Python (the virtualenv's)."""
    return str(Path(sys.executable).parent / "celery")


def exec_celery(topology: Path, argv: list[str]) -> NoReturn:
    """Become `argv`, with CELERY_TOPOLOGY_FILE set and the examples package importable."""
    env = dict(os.environ, CELERY_TOPOLOGY_FILE=str(topology))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLES), env.get("PYTHONPATH")]))
    print("exec:", " ".join(argv), flush=True)
    os.execve(argv[0], argv, env)
