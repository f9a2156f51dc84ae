"""The topology's checksum: which file a live exporter runs, and which file alert rules came from."""

from __future__ import annotations

import hashlib

from .model import Topology


def checksum(topology: Topology) -> str:
    """16 hex digits of SHA-256 over the validated model's values that differ from the defaults, the
    broker section left out.

    The broker's URLs differ from one environment to the next (and may hold a password), so the
    same file read in production and on the machine that renders the rules gives one checksum;
    a key a newer celery-topology adds with a default does not change it.
    """
    document = topology.model_dump_json(exclude={"broker"}, exclude_defaults=True)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]
