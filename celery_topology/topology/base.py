"""The configuration every model of topology.yaml shares."""

from __future__ import annotations

from pydantic import ConfigDict

STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)  # unknown keys refused, no coercion, frozen
