"""Topology -> the files an operator installs. Renderers return data (`RenderedFile`); `files.py` writes.

Rendering never imports Celery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2

from ..topology.model import Topology
from . import kubernetes, prometheus, supervisor, systemd
from .plan import HostError, RenderedFile, RenderError

Renderer = Callable[..., list[RenderedFile]]  # (topology, source, host, template_dirs, **target options)
TARGETS: dict[str, tuple[Renderer, Callable[[str], tuple[str, ...]]]] = {
    "systemd": (systemd.render, systemd.owned_patterns),
    "supervisor": (supervisor.render, supervisor.owned_patterns),
    "kubernetes": (kubernetes.render, kubernetes.owned_patterns),
    "prometheus": (prometheus.render, prometheus.owned_patterns),
}


def render(
    topology: Topology,
    target: str,
    source: str,
    host: str | None = None,
    template_dirs: Sequence[str | Path] = (),
    namespace: str | None = None,
) -> list[RenderedFile]:
    """The files of `target` for `host` (None: every pool, beat and Flower), sorted by path."""
    renderer, _ = TARGETS[target]
    if namespace is not None and target != "kubernetes":
        raise RenderError("--namespace is for the kubernetes target only")
    options = {"namespace": namespace} if namespace is not None else {}
    try:
        return renderer(topology, source, host, template_dirs, **options)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise RenderError(f"a {target} template failed: {exc.message}") from exc


def owned_patterns(target: str, topology: Topology) -> tuple[str, ...]:
    """Glob patterns of the file names `target` owns for this topology (for stale-file detection)."""
    _, patterns = TARGETS[target]
    return patterns(topology.unit_prefix)


__all__ = ["TARGETS", "HostError", "RenderError", "RenderedFile", "owned_patterns", "render"]
