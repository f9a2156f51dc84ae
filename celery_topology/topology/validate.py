"""File -> validated Topology: parse, check the version, build the model, run the checks."""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import checks, credentials, environments
from .document import Document, Path_
from .errors import Problem, TopologyError
from .loader import TOPOLOGY_ENV, parse, resolve
from .model import SUPPORTED_VERSION, Topology
from .typed import fields_at, retyped

_TYPE_NAMES = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "dict": "a mapping",
    "list": "a list",
    "NoneType": "nothing",
}
_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def check(
    path: str | os.PathLike[str], environ: dict[str, str] | None = None, env: str | None = None
) -> tuple[Topology | None, list[Problem]]:
    """Every problem in the file (with environment `env` merged over it), and the topology if there is no error.

    An unknown `env` raises `environments.UnknownEnvironment`.
    """
    return _check(resolve(parse(path), environ, env))


def check_every(
    path: str | os.PathLike[str], environ: dict[str, str] | None = None
) -> tuple[Topology | None, list[Problem]]:
    """The base file and every environment merged over it: the base topology (None if any has an error) and
    every problem once; one that only a merged environment has says which. The file is parsed once."""
    parsed = parse(path)
    topology, problems = _check(resolve(parsed, environ))
    seen = {(p.line, p.col, p.path, p.code) for p in problems}
    for name in environments.names(parsed.raw):
        for problem in _check(resolve(parsed, environ, name))[1]:
            if (problem.line, problem.col, problem.path, problem.code) not in seen:
                seen.add((problem.line, problem.col, problem.path, problem.code))
                problems.append(replace(problem, message=f"in environment {name!r}: {problem.message}"))
    failed = any(p.is_error for p in problems)
    return (None if failed else topology), _sorted(problems)


def _check(doc: Document) -> tuple[Topology | None, list[Problem]]:
    if doc.data is None:
        return None, doc.problems
    topology = _model(doc)
    problems = doc.problems + credentials.problems(doc)
    if topology is not None:
        topology._environment = doc.environment
        problems += checks.run(topology, doc)
    errors = [p for p in problems if p.severity == "error"]
    return (None if errors else topology), _sorted(problems)


def _model(doc: Document) -> Topology | None:
    """The model of a parsed file, or None with its problems added to `doc.problems`."""
    version = doc.data.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        said = f"{version} is not supported" if isinstance(version, int) else "must be a whole number"
        if "version" not in doc.data:
            said = "is missing"
        doc.problems.append(
            doc.problem(
                ("version",),
                f"format version {said}; this celery-topology reads version {SUPPORTED_VERSION}: write `version: 1`",
                "version",
            )
        )
        return None
    try:
        return Topology.model_validate(retyped(doc))
    except ValidationError as exc:
        placed = {p.path for p in doc.problems}
        translated = (_translate(doc, error) for error in exc.errors(include_url=False, include_input=True))
        doc.problems.extend(p for p in translated if p.path not in placed)
        return None


def topology_path(path: str | os.PathLike[str] | None = None) -> Path:
    """`path`, else CELERY_TOPOLOGY_FILE, else ./topology.yaml."""
    return Path(path or os.environ.get(TOPOLOGY_ENV) or "topology.yaml")


def load(path: str | os.PathLike[str], environ: dict[str, str] | None = None, env: str | None = None) -> Topology:
    """The validated topology at `path` (environment `env` merged over it), or TopologyError with every problem found."""
    topology, problems = check(path, environ, env)
    if topology is None:
        raise TopologyError(problems)
    return topology


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0, p.path, p.code))


def _translate(doc: Document, error: Any) -> Problem:
    """One pydantic error -> one Problem at the YAML node it is about, in the file's words."""
    loc: Path_ = tuple(part for part in error["loc"] if part != "[key]")
    kind = error["type"]
    is_key = "[key]" in error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = fields_at(loc[:-1])
        guess = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else f" (known keys: {', '.join(known)})" if known else ""
        return doc.problem(loc, f"unknown key {key!r}{hint}", "unknown-key", key=True)
    if kind == "missing":
        return doc.problem(loc[:-1], f"required key {loc[-1]!r} is missing", "missing-key")
    if kind in _EXPECTED:
        got = _TYPE_NAMES.get(type(error.get("input")).__name__, "something else")
        if loc in doc.expanded:
            got = f"{doc.expanded[loc]}, which expands to {_TYPE_NAMES['str']}"
        return doc.problem(loc, f"expected {_EXPECTED[kind]}, got {got}", "type", key=is_key)
    if kind == "literal_error":
        return doc.problem(loc, f"must be {error['ctx']['expected']}", "value")
    if kind == "value_error":
        return doc.problem(loc, str(error["msg"]).removeprefix("Value error, "), "value", key=is_key)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        word = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "above",
            "less_than": "below",
        }
        bound = next(iter(error["ctx"].values()))
        return doc.problem(loc, f"must be {word[kind]} {bound}", "range")
    if kind in ("too_short", "too_long"):
        return doc.problem(loc, "must not be empty" if kind == "too_short" else "has too many entries", "length")
    return doc.problem(loc, str(error["msg"]), kind)
