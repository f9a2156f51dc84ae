"""The JSON Schema of topology.yaml, derived from the model, for editors."""

from __future__ import annotations

from typing import Any

from .model import Topology


def json_schema() -> dict[str, Any]:
    schema = Topology.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "celery-topology topology.yaml (format version 1)"
    props = schema["properties"]
    # The file's shorthands, which the model expands before validating.
    props["routes"]["additionalProperties"] = {
        "anyOf": [{"type": "string", "description": "shorthand: just the queue"}, {"$ref": "#/$defs/Route"}]
    }
    props["queues"]["additionalProperties"] = {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/QueueSpec"}]}
    return schema
