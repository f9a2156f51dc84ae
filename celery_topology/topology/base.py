"""The configuration every model of topology.yaml shares."""

from __future__ import annotations

from pydantic import ConfigDict

# Unknown keys refused, no coercion, frozen. `defer_build`: a model's validator is built when first
# used, so a command builds one for `Topology` (its parts' schemas inlined) instead of one per model.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
