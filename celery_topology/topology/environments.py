"""`environments:` named overlays merged over the rest of the file, marks following the merged values.

The merge, like Helm's values: mappings merge key by key (nested ones too, a route's `retry` included),
anything else (a list, a scalar) is replaced whole, and `null` removes the key (a queue, pool, route or
beat entry). A route the overlay adds comes after the base's routes, so it never takes precedence
over a base pattern. A route written in shorthand (`pattern: queue`) merges as `{queue: queue}`.

Every merged value keeps the line and column where it was written, in the base or in the overlay,
so a problem in a merged topology points at the line to change.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from .document import Document, Path_

VARIABLE = "CELERY_TOPOLOGY_ENV"
KEY = "environments"


class UnknownEnvironment(ValueError):
    """The environment asked for is not in the file: a usage error, with the names it has."""

    def __init__(self, name: str, known: list[str]) -> None:
        guess = [k for k in known if k.startswith(name)] or difflib.get_close_matches(
            name, known, n=1
        )  # prod -> production
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        have = f"; the file has: {', '.join(known)}" if known else "; the file has no environments"
        super().__init__(f"unknown environment {name!r}{hint}{have}")


def selected(name: str | None = None) -> str | None:
    """The environment asked for: `name`, else $CELERY_TOPOLOGY_ENV, else none (the base file)."""
    return name or os.environ.get(VARIABLE) or None


def names(raw: Any) -> list[str]:
    """The environments a parsed file declares (those written as mappings)."""
    overlays = raw.get(KEY) if isinstance(raw, dict) else None
    return [k for k, v in overlays.items() if isinstance(v, dict)] if isinstance(overlays, dict) else []


def select(doc: Document, raw: dict[str, Any], name: str) -> dict[str, Any]:
    """`raw` without its environments, with environment `name` merged over it; `doc`'s marks follow."""
    if name not in names(raw):
        raise UnknownEnvironment(name, names(raw))
    overlay: dict[str, Any] = raw[KEY][name]
    base = {k: v for k, v in raw.items() if k != KEY}
    for key in ("version", KEY):
        if key in overlay:
            doc.note(
                f"an environment cannot set {key!r}; remove it",
                "env-overlay-key",
                doc.key_marks.get((KEY, name, key)),
                (KEY, name, key),
            )
    overlay = {k: v for k, v in overlay.items() if k not in ("version", KEY)}
    return merge(doc, base, overlay, (), (KEY, name))


def merge(doc: Document, base: dict[str, Any], overlay: dict[str, Any], path: Path_, source: Path_) -> dict[str, Any]:
    """`overlay` (written at `source`) merged over `base` (at `path`)."""
    result = dict(base)
    for key, value in overlay.items():
        here, there = (*path, key), (*source, key)
        if value is None:
            result.pop(key, None)
            _forget(doc, here)
            continue
        current = result.get(key)
        if path == ("routes",) and isinstance(current, str):
            current = {"queue": current}  # the shorthand, spelled out so a mapping merges over it
        if isinstance(current, dict) and isinstance(value, dict):
            result[key] = merge(doc, current, value, here, there)
            continue
        _forget(doc, here)
        result[key] = value
        _move(doc, there, here)
    return result


def _forget(doc: Document, path: Path_) -> None:
    """Drop the marks of `path` and everything under it."""
    for marks in (doc.key_marks, doc.value_marks):
        for stale in [p for p in marks if p[: len(path)] == path]:
            del marks[stale]


def _move(doc: Document, source: Path_, path: Path_) -> None:
    """The marks of `source` and everything under it, as marks of `path`."""
    for marks in (doc.key_marks, doc.value_marks):
        for old in [p for p in marks if p[: len(source)] == source]:
            marks[path + old[len(source) :]] = marks[old]
