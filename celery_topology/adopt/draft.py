"""The draft topology an import builds: the data to write, notes for people, and what could not be converted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Path = tuple[str, ...]


class Unreadable(ValueError):
    """APP or a --worker line that cannot be read: the command line is wrong, not the app's configuration."""


@dataclass
class Draft:
    data: dict[str, Any] = field(default_factory=dict)
    notes: dict[Path, list[str]] = field(default_factory=dict)  # comments written above a key
    unconverted: list[str] = field(default_factory=list)  # reported on stderr and at the top of the file

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
