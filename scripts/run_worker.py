#!/usr/bin/env python3
"""Start a Celery worker of the clinical assistant, configured by topology.yaml.

    python scripts/run_worker.py                 # one development worker consuming every declared queue
    python scripts/run_worker.py --pool agent    # the `agent` pool exactly as the rendered units run it
    python scripts/run_worker.py --pool agent -- --concurrency=1   # extra arguments go to `celery worker`

The topology is CELERY_TOPOLOGY_FILE, else ./topology.yaml, with CELERY_TOPOLOGY_ENV's environment
merged. The process becomes `celery worker` (exec), so SIGTERM is Celery's warm shutdown.
"""

from __future__ import annotations

import argparse
import os
import sys

from _launch import celery_binary, exec_celery, topology_for_scripts

from celery_topology.render.plan import worker_argv
from celery_topology.topology.model import Deploy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", help="run this pool of the topology (default: every queue, one dev worker)")
    parser.add_argument("extra", nargs="*", help="more `celery worker` arguments, after --")
    args = parser.parse_args()
    path, topology = topology_for_scripts()
    if args.pool is None:
        queues = ",".join(topology.queues)
        argv = [celery_binary(), "-A", topology.app, "worker", "--loglevel=INFO", f"--queues={queues}", "-n", "dev@%h"]
    elif args.pool in topology.pools:
        here = Deploy.model_construct(working_directory=os.getcwd(), celery=celery_binary())
        argv = list(worker_argv(topology, here, args.pool))
    else:
        sys.exit(f"{path}: no pool {args.pool!r}; pools: {', '.join(topology.pools)}")
    exec_celery(path, [*argv, *args.extra])


if __name__ == "__main__":
    main()
