"""`${VAR}` and `${VAR:-default}` in a topology's string values: the environment first, then `.env` beside the file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .document import Document, Path_
from .errors import Problem

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def environment(doc: Document, topology: Path, environ: dict[str, str] | None) -> dict[str, str]:
    """The variables a topology sees: its `.env`, overridden by `environ` (default: the process environment)."""
    env_file = topology.parent / ".env"
    merged: dict[str, str] = {}
    if env_file.is_file():
        from dotenv import dotenv_values  # only when there is a .env: importing it costs start-up time

        try:
            merged = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            doc.problems.append(Problem(str(env_file), None, None, "", f"cannot read the file: {reason}", "env-file"))
    merged.update(os.environ if environ is None else environ)
    return merged


def expand(doc: Document, value: Any, path: Path_, env: dict[str, str]) -> Any:
    """`value` with every reference replaced; a missing variable or a malformed `${` is a problem at `path`.

    Queue names are expanded where they are keys (`queues`) too; optional queues that expand to the
    same name are one queue (`_merged`).
    """
    if isinstance(value, dict):
        if path == ("queues",):
            return _queue_keys(doc, value, env)
        return {k: expand(doc, v, (*path, k), env) for k, v in value.items()}
    if isinstance(value, list):
        items = [expand(doc, v, (*path, i), env) for i, v in enumerate(value)]
        return _merged(doc, value, items, path) if len(path) == 3 and path[::2] == ("pools", "queues") else items
    if not isinstance(value, str) or "$" not in value:
        return value
    expanded = _substitute(doc, value, path, env)
    if expanded != value:
        doc.expanded[path] = value
    return expanded


def _substitute(doc: Document, value: str, path: Path_, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, has_default, default = match.group(1), match.group(2), match.group(3)
        if name in env and (env[name] or not has_default):
            return env[name]
        if has_default:
            return default
        hint = f"set it (or put it in .env beside the file) or write ${{{name}:-default}}"
        doc.problems.append(doc.problem(path, f"environment variable {name} is not set; {hint}", "env-missing"))
        return ""

    expanded = REFERENCE.sub(substitute, value)
    if "${" in REFERENCE.sub("", value):
        doc.problems.append(doc.problem(path, "malformed ${...}: write ${NAME} or ${NAME:-default}", "env-syntax"))
    return expanded


def _queue_keys(doc: Document, queues: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """`queues` with its names expanded; two that expand to one name are one queue if their settings agree."""
    result: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, spec in queues.items():
        name = _substitute(doc, key, ("queues", key), env) if "$" in key else key
        if name != key:
            doc.move(("queues", key), ("queues", name))
        value = expand(doc, spec, ("queues", name), env)
        if name in result and result[name] != value:
            first = doc.key_marks.get(("queues", written[name]), (0, 0))[0]
            message = f"{key} names queue {name!r} again (line {first}) with other settings; give both the same"
            doc.problems.append(doc.problem(("queues", key), message, "queue-merge", key=True))
        result.setdefault(name, value)
        written.setdefault(name, key)
    return result


def _merged(doc: Document, raw: list[Any], items: list[Any], path: Path_) -> list[Any]:
    """A pool's queues without the repeats that `${VAR:-default}` made (a repeat written out stays: the model refuses it)."""
    kept: list[Any] = []
    for i, (written, item) in enumerate(zip(raw, items, strict=True)):
        if item in kept and isinstance(written, str) and "${" in written:
            continue
        if len(kept) != i:
            source, target = (*path, i), (*path, len(kept))
            doc.value_marks[target] = doc.value_marks[source]
            for places in (doc.expanded, doc.references):
                if source in places:
                    places[target] = places.pop(source)  # type: ignore[assignment]
                else:
                    places.pop(target, None)
        kept.append(item)
    return kept
