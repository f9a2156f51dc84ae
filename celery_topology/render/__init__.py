"""Topology -> the files an operator installs. Renderers return data (`RenderedFile`); `files.py` writes.

Rendering never imports Celery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2

from ..topology.model import Topology
from . import supervisor, systemd
from .plan import HostError, RenderedFile, RenderError

Renderer = Callable[[Topology, str, "str | None", Sequence["str | Path"]], list[RenderedFile]]
TARGETS: dict[str, tuple[Renderer, Callable[[str], tuple[str, ...]]]] = {
    "systemd": (systemd.render, systemd.owned_patterns),
    "supervisor": (supervisor.render, supervisor.owned_patterns),
}


def render(
    topology: Topology,
    target: str,
    source: str,
    host: str | None = None,
    template_dirs: Sequence[str | Path] = (),
) -> list[RenderedFile]:
    """The files of `target` for `host` (None: every pool, beat and Flower), sorted by path."""
    renderer, _ = TARGETS[target]
    try:
        return renderer(topology, source, host, template_dirs)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise RenderError(f"a {target} template failed: {exc.message}") from exc


def owned_patterns(target: str, topology: Topology) -> tuple[str, ...]:
    """Glob patterns of the file names `target` owns for this topology (for stale-file detection)."""
    _, patterns = TARGETS[target]
    return patterns(topology.unit_prefix)


__all__ = ["TARGETS", "HostError", "RenderError", "RenderedFile", "owned_patterns", "render"]
