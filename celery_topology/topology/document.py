"""A parsed topology file and where each of its parts stands: what the loader, env and checks share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass
class Document:
    """A parsed topology file: plain data (expanded), the same before expansion, and where each part stands."""

    file: str
    environment: str | None = None  # the environment merged over the file (`environments.py`), if any
    data: Any = None
    raw: Any = None
    key_marks: dict[Path_, Mark] = field(default_factory=dict)
    value_marks: dict[Path_, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    references: dict[Path_, Mark] = field(default_factory=dict)  # where a value's first ${...} stands
    expanded: dict[Path_, str] = field(default_factory=dict)  # values that held ${...}, as written

    def mark(self, path: Path_, *, key: bool = False) -> Mark | None:
        """The place of `path` (its key if `key`; the `${` of a value that held one), else of the nearest enclosing node."""
        if not key and path in self.references:
            return self.references[path]
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            marks = self.key_marks if key and end == len(path) else self.value_marks
            if prefix in marks:
                return marks[prefix]
            if prefix in self.key_marks:
                return self.key_marks[prefix]
        return None

    def problem(self, path: Path_, message: str, code: str, *, key: bool = False, severity: str = "error") -> Problem:
        place = self.mark(path, key=key)
        return Problem(
            file=self.file,
            line=place[0] if place else None,
            col=place[1] if place else None,
            path=dotted(path),
            message=message,
            code=code,
            severity="warning" if severity == "warning" else "error",
        )

    def move(self, old: Path_, new: Path_) -> None:
        """`old`'s marks (and those of everything under it) now also stand for `new`."""
        for marks in (self.key_marks, self.value_marks, self.references):
            for path in [p for p in marks if p[: len(old)] == old]:
                marks[new + path[len(old) :]] = marks[path]

    def note(self, message: str, code: str, place: Mark | None = None, path: Path_ = ()) -> None:
        """Record a problem found while reading, at `place` (line, column) if it has one."""
        line, col = place if place else (None, None)
        self.problems.append(Problem(self.file, line, col, dotted(path), message, code))


def dotted(path: Path_) -> str:
    """`pools.default.queues[1]`; control characters in keys are escaped so a problem stays on one line."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).removeprefix(".")
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)
