"""The alert targets of one queue or pool: its own value, else `defaults`' (None: no such alert); see alerting.py."""

from __future__ import annotations

from .model import Topology


def max_wait(topology: Topology, queue: str) -> int | None:
    own = topology.queues[queue].max_wait
    return topology.defaults.max_wait if own is None else own


def max_depth(topology: Topology, queue: str) -> int | None:
    own = topology.queues[queue].max_depth
    return topology.defaults.max_depth if own is None else own


def declared_workers(topology: Topology, pool: str) -> int:
    """Workers the file declares for the pool: one per host it names, else its `scale.min` pods, else one."""
    spec = topology.pools[pool]
    if spec.hosts:
        return len(spec.hosts)
    return spec.scale.min if spec.scale is not None else 1


def min_workers(topology: Topology, pool: str) -> int:
    """Workers the pool needs online: its own value, else the defaults', else what it declares."""
    for value in (topology.pools[pool].min_workers, topology.defaults.min_workers):
        if value is not None:
            return value
    return declared_workers(topology, pool)
