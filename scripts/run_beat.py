#!/usr/bin/env python3
"""Start the one Celery beat of the clinical assistant; its schedule comes from topology.yaml.

    python scripts/run_beat.py [-- extra `celery beat` arguments]

Run exactly one beat per topology: two would run every periodic task twice.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from _launch import celery_binary, exec_celery, topology_for_scripts

from celery_topology import Topology


def schedule_file(topology: Topology) -> Path:
    """beat's schedule for development: under $XDG_STATE_HOME (default ~/.local/state), never in the checkout."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    directory = base / "celery-topology" / topology.unit_prefix
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "celerybeat-schedule"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extra", nargs="*", help="more `celery beat` arguments, after --")
    args = parser.parse_args()
    path, topology = topology_for_scripts()
    if topology.beat is None or not topology.beat.schedule:
        sys.exit(f"{path}: the topology has no beat.schedule entries; nothing to schedule")
    argv = [celery_binary(), "-A", topology.app, "beat", "--loglevel=INFO", f"--schedule={schedule_file(topology)}"]
    exec_celery(path, [*argv, *args.extra])


if __name__ == "__main__":
    main()
