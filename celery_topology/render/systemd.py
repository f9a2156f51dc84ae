"""systemd: one service per pool, one beat service, an opt-in Flower service, and a target grouping them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..topology.model import Topology
from . import jinja
from .plan import RenderedFile, build

TEMPLATES = {"worker": "worker.service.j2", "beat": "beat.service.j2", "flower": "flower.service.j2"}


def managed_state_directory(path: str) -> str | None:
    """`path` as systemd's StateDirectory= (relative to /var/lib: systemd creates it, owned by User=),
    or None when it lies elsewhere (then ReadWritePaths=, and the directory must exist)."""
    relative = path.removeprefix("/var/lib/")
    return relative if relative != path and relative else None


def owned_patterns(prefix: str) -> tuple[str, ...]:
    """The file names this target writes for `prefix` (what stale-file detection looks at)."""
    return (f"{prefix}-*.service", f"{prefix}.target")


def render(
    topology: Topology, source: str, host: str | None = None, template_dirs: Sequence[str | Path] = ()
) -> list[RenderedFile]:
    prefix = topology.unit_prefix
    plan = build(topology, host)
    env = jinja.environment("systemd", template_dirs)
    common = {"header": jinja.header(source), "plan": plan, "deploy": plan.deploy, "target": f"{prefix}.target"}
    common["state_directory"] = managed_state_directory(plan.state_directory)
    files = [
        RenderedFile(
            f"{program.name}.service",
            env.get_template(TEMPLATES[program.kind]).render(common, program=program),
        )
        for program in plan.programs
    ]
    files.append(RenderedFile(f"{prefix}.target", env.get_template("target.j2").render(common)))
    return sorted(files, key=lambda f: f.path)
