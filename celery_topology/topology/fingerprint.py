"""One short checksum of a topology: workers report the one they loaded, `status` compares it with the file's.

Computed over the validated model (what the worker runs by), broker URLs with their passwords masked:
the checksum travels in `inspect stats`, so it must not carry a hash of a secret.
"""

from __future__ import annotations

import hashlib
import json

from .explain import mask_url
from .model import Topology


def fingerprint(topology: Topology) -> str:
    """12 hex digits of SHA-256 over the model as canonical JSON."""
    data = topology.model_dump(mode="json")
    broker = data["broker"]
    for key in ("url", "result_backend"):
        if broker.get(key):
            broker[key] = mask_url(broker[key])
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
