"""A Mermaid flowchart of the topology: routes -> queues -> pools -> hosts, and beat entries. Pure.

GitHub renders a ```mermaid block in Markdown. Node ids are positional (r0, q0, p0, h0,
b0) so no name or glob character can break the syntax; labels are quoted, and `#`, `"`, `<`, `>`
and `&` in names are written as Mermaid's entity codes (`#quot;`...).
"""

from __future__ import annotations

from ..topology.model import Topology
from ..topology.routing import Router, shared_router

ANY_HOST = "every machine the unit is installed on"


_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;"}


def _label(*lines: str) -> str:
    """A quoted label of `lines`, each with Mermaid's entity codes for what could end or format it, joined by `<br/>`."""
    return '"' + "<br/>".join("".join(_ENTITIES.get(c, c) for c in line) for line in lines) + '"'


def _hosts(topology: Topology) -> list[str]:
    names = {host for pool in topology.pools.values() for host in pool.hosts or [ANY_HOST]}
    return sorted(names, key=lambda h: (h == ANY_HOST, h))


def mermaid(topology: Topology) -> str:
    """The flowchart text (without the ``` fence)."""
    queue_id = {name: f"q{i}" for i, name in enumerate(topology.queues)}
    pool_id = {name: f"p{i}" for i, name in enumerate(topology.pools)}
    host_id = {name: f"h{i}" for i, name in enumerate(_hosts(topology))}
    router = shared_router(topology)
    lines = ["flowchart LR"]
    lines += _routes(topology, router, queue_id)
    lines += [f"  {queue_id[name]}[({_label(name)})]" for name in topology.queues]
    for name, pool in topology.pools.items():
        size = pool.concurrency or (pool.autoscale.max if pool.autoscale else "cpus")
        lines.append(f"  {pool_id[name]}[{_label(f'pool {name}', f'{topology.pool_hostname(name)} x{size}')}]")
        lines += [f"  {queue_id[queue]} --> {pool_id[name]}" for queue in pool.queues]
        lines += [f"  {pool_id[name]} --> {host_id[host]}" for host in pool.hosts or [ANY_HOST]]
    lines += [f"  {node}{{{{{_label(host)}}}}}" for host, node in host_id.items()]
    return "\n".join(lines) + "\n"


def _routes(topology: Topology, router: Router, queue_id: dict[str, str]) -> list[str]:
    lines = []
    for i, key in enumerate([*topology.routes, None]):
        queue, priority = router.destinations[key]
        text = key if key is not None else "anything else"
        lines.append(f"  r{i}[{_label(text, f'priority {priority}')}] --> {queue_id[queue]}")
    if topology.beat is not None:
        for i, (name, entry) in enumerate(topology.beat.schedule.items()):
            queue = entry.queue or router.resolve(entry.task).queue
            lines.append(f"  b{i}>{_label(f'beat {name}', entry.when)}] -.-> {queue_id[queue]}")
    return lines
