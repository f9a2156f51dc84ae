"""A Mermaid flowchart of the topology: routes -> queues -> pools -> hosts, and beat: its entries, and the beat
process with its scheduler (a locking one noted) on its hosts, or inside the pool that embeds it. Pure.

GitHub renders a ```mermaid block in Markdown. Node ids are positional (r0, q0, p0, h0,
b0, s0) so no name or glob character can break the syntax; labels are quoted, and `#`, `"`, `<`, `>`,
`&` and a backtick in names are written as Mermaid's entity codes (`#quot;`...).
"""

from __future__ import annotations

from ..topology.beatlock import beat_hosts, failover, is_locking
from ..topology.model import Beat, Topology
from ..topology.routing import Router, shared_router
from .plan import singleton_host

ANY_HOST = "every machine the unit is installed on"


_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}  # ` opens Markdown


def _label(*lines: str) -> str:
    """A quoted label of `lines`, each with Mermaid's entity codes for what could end or format it, joined by `<br/>`."""
    return '"' + "<br/>".join("".join(_ENTITIES.get(c, c) for c in line) for line in lines) + '"'


def _hosts(topology: Topology) -> list[str]:
    names = {host for pool in topology.pools.values() for host in pool.hosts or [ANY_HOST]}
    return sorted(names | set(_beat_hosts(topology)), key=lambda h: (h == ANY_HOST, h))


def _beat_hosts(topology: Topology) -> list[str]:
    """Where a beat process of its own runs, as the rendered units place it (none: beat is embedded or absent)."""
    if topology.beat is None or any(pool.beat for pool in topology.pools.values()):
        return []
    singleton = singleton_host(topology)
    return beat_hosts(topology) or [singleton if singleton is not None else ANY_HOST]


def _scheduler(beat: Beat) -> str:
    if is_locking(beat):
        return f"scheduler {beat.scheduler}: locking, one sends, failover {failover(beat)}s"
    what = "a schedule file" if beat.scheduler == "celery" else "no lock"
    return f"scheduler {beat.scheduler}: {what}, one beat only"


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
    if topology.beat is not None:
        lines.append(f"  s0([{_label('beat', _scheduler(topology.beat))}])")
        lines += [f"  s0 -.->|inside| {pool_id[name]}" for name, pool in topology.pools.items() if pool.beat]
        lines += [f"  s0 --> {host_id[host]}" for host in _beat_hosts(topology)]
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
