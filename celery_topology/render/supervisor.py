"""supervisor: one program per pool, one for beat (and Flower if enabled), all in one group, in one file.

supervisor has no environment file: `environment=` carries only CELERY_TOPOLOGY_FILE, and the broker
credentials come from the `.env` file beside the topology (which the topology's `${VAR}` references
read), readable only by the service user.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..topology.model import Topology
from . import jinja
from .plan import RenderedFile, build


def owned_patterns(prefix: str) -> tuple[str, ...]:
    """The file names this target writes for `prefix` (what stale-file detection looks at)."""
    return (f"{prefix}.conf",)


def render(
    topology: Topology, source: str, host: str | None = None, template_dirs: Sequence[str | Path] = ()
) -> list[RenderedFile]:
    plan = build(topology, host)
    env = jinja.environment("supervisor", template_dirs)
    text = env.get_template("group.conf.j2").render(header=jinja.header(source), plan=plan, deploy=plan.deploy)
    return [RenderedFile(f"{plan.prefix}.conf", text)]
