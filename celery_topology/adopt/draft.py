"""The draft topology an import builds: the data to write, notes for people, and what could not be converted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..topology.credentials import is_secret

Path = tuple[str, ...]


class Unreadable(ValueError):
    """APP or a --worker line that cannot be read: the command line is wrong, not the app's configuration."""


@dataclass
class Draft:
    data: dict[str, Any] = field(default_factory=dict)
    notes: dict[Path, list[str]] = field(default_factory=dict)  # comments written above a key
    unconverted: list[str] = field(default_factory=list)  # reported on stderr and at the top of the file
    pool_defaults: dict[str, Any] = field(default_factory=dict)  # the app's worker_* settings, under each pool

    def note(self, path: Path, text: str) -> None:
        self.notes.setdefault(path, []).append(text)

    def refuse(self, text: str) -> None:
        self.unconverted.append(text)


def without_password(url: str) -> tuple[str, bool]:
    """`url` with its password removed (and whether it had one); the password is never kept anywhere."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, False
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host)), True


def without_secrets(value: Any, draft: Draft, path: Path = ()) -> Any:
    """`value` with each value under a key named like a secret (a sentinel password in the transport options, an
    `api_key` in beat kwargs) replaced by `${NAME}`: the app's secret is never written, and validate asks for NAME."""
    if isinstance(value, list):
        return [without_secrets(item, draft, (*path, str(i))) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        here = (*path, str(key))
        if is_secret(key, path) and item is not None and not isinstance(item, dict | list):
            variable = "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part) for part in here).strip("_").upper()
            draft.note(
                here[: 4 if here[0] == "beat" else 3], f"{'.'.join(here)}: a secret; set {variable} (not written)"
            )
            result[key] = f"${{{variable}}}"
        else:
            result[key] = without_secrets(item, draft, here)
    return result
