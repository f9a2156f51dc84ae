"""The JSON Schema of topology.yaml, derived from the model, for editors."""

from __future__ import annotations

from typing import Any, get_args

from .failures import DeadLetter
from .model import Topology


def json_schema() -> dict[str, Any]:
    schema = Topology.model_json_schema(mode="validation")
    _name_rules_as_property_names(schema)
    schema = dict(_references_allowed(schema))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "celery-topology topology.yaml (format version 1)"
    props = schema["properties"]
    # The file's shorthands, which the model expands before validating.
    props["routes"]["additionalProperties"] = {
        "anyOf": [{"type": "string", "description": "shorthand: just the queue"}, {"$ref": "#/$defs/Route"}]
    }
    props["queues"]["additionalProperties"] = {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/QueueSpec"}]}
    when = {"type": "string", "enum": list(get_args(DeadLetter)), "description": "shorthand for {when: ...}"}
    for owner in ("Defaults", "Route"):
        field = schema["$defs"][owner]["properties"]["dead_letter"]
        field["anyOf"] = [when, *(field.pop("anyOf", None) or [{"$ref": field.pop("$ref")}])]
    return schema


def _name_rules_as_property_names(node: Any) -> None:
    """pydantic writes a mapping with a key grammar as `patternProperties`, which lets any other key
    through; `propertyNames` + `additionalProperties` refuses a bad key, as the model does."""
    if isinstance(node, list):
        for item in node:
            _name_rules_as_property_names(item)
    if not isinstance(node, dict):
        return
    pattern_properties = node.get("patternProperties")
    if isinstance(pattern_properties, dict) and len(pattern_properties) == 1:
        ((pattern, value),) = pattern_properties.items()
        del node["patternProperties"]
        node["propertyNames"] = {"pattern": pattern}
        node["additionalProperties"] = value
    for value in node.values():
        _name_rules_as_property_names(value)


_REFERENCE = {"type": "string", "pattern": "\\$\\{", "description": "${VAR} or ${VAR:-default}, read as this type"}


def _references_allowed(node: Any) -> Any:
    """A whole number or true/false may be written as `${VAR:-default}` (read as that type once expanded)."""
    if isinstance(node, list):
        return [_references_allowed(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") in ("integer", "boolean"):
        return {"anyOf": [node, _REFERENCE]}
    return {key: value if key == "propertyNames" else _references_allowed(value) for key, value in node.items()}
