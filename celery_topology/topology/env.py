"""`${VAR}` and `${VAR:-default}` in a topology's string values: the environment first, then `.env` beside the file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .document import Document, Path_
from .errors import Problem

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def environment(doc: Document, topology: Path, environ: dict[str, str] | None) -> dict[str, str]:
    """The variables a topology sees: its `.env`, overridden by `environ` (default: the process environment)."""
    env_file = topology.parent / ".env"
    merged: dict[str, str] = {}
    if env_file.is_file():
        try:
            merged = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            doc.problems.append(Problem(str(env_file), None, None, "", f"cannot read the file: {reason}", "env-file"))
    merged.update(os.environ if environ is None else environ)
    return merged


def expand(doc: Document, value: Any, path: Path_, env: dict[str, str]) -> Any:
    """`value` with every reference replaced; a missing variable or a malformed `${` is a problem at `path`."""
    if isinstance(value, dict):
        return {k: expand(doc, v, (*path, k), env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(doc, v, (*path, i), env) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

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
