"""Problems found in a topology file, and the exception that carries them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a topology file, placed where the user can find it."""

    file: str
    line: int | None
    col: int | None
    path: str
    message: str
    code: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        kind = "warning: " if self.severity == "warning" else ""
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{path} {kind}{self.message} [{self.code}]"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def as_finding(self) -> dict[str, str]:
        """A finding about the live cluster, as `status`, `doctor` and `/workers/stats` print it."""
        return {"level": self.severity, "code": self.code, "message": self.message}


def finding(severity: Severity, code: str, message: str) -> Problem:
    """A problem found in the live cluster rather than in the file: it has no place in the file."""
    return Problem(file="", line=None, col=None, path="", message=message, code=code, severity=severity)


class TopologyError(Exception):
    """A topology that cannot be used; `problems` lists every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid topology")
