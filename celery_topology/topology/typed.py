"""Values that held `${VAR}` are read as their field's type once expanded (`concurrency: ${N:-4}` is 4).

The loader reads scalars by YAML's core schema before expansion, so an expanded value is text;
where the model wants a whole number or true/false, text that reads as one becomes one, as it
would have had it been written in place. Anything else stays text, and the model's error then
points at the `${` (see `Document.mark`).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from .document import Document, Path_
from .model import Topology

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def retyped(doc: Document) -> Any:
    """`doc.data` with every expanded value of a numeric or boolean field converted."""
    data = doc.data
    for path in doc.expanded:
        kind = _field_type(path)
        if kind in (int, bool):
            data = _replace(data, path, kind)
    return data


def _replace(data: Any, path: Path_, kind: type) -> Any:
    """`data` with the text at `path` converted to `kind` where it reads as one (copies along the path)."""
    if not path:
        if isinstance(data, str) and kind is int and _INT.fullmatch(data):
            return int(data)
        if isinstance(data, str) and kind is bool and data in _BOOL:
            return _BOOL[data]
        return data
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and head in data:
        return {**data, head: _replace(data[head], rest, kind)}
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        return [*data[:head], _replace(data[head], rest, kind), *data[head + 1 :]]
    return data


def _field_type(path: Path_) -> Any:
    current: Any = Topology
    for part in path:
        current = _inner(current, part)
        if current is None:
            return None
    return current


def fields_at(loc: Path_) -> list[str]:
    """The keys the model allows at `loc` (for did-you-mean)."""
    current = _field_type(loc)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner(annotation: Any, part: str | int) -> Any:
    """Step one location part into a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return _unwrap(field.annotation) if field else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return _unwrap(args[1])
    if origin is list:
        return _unwrap(args[0])
    return None


def _unwrap(annotation: Any) -> Any:
    """Drop `| None` and `Annotated[...]` to reach the model or container type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0]
        else:
            return annotation
