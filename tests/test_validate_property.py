"""Hostile names and values: validation never crashes and never accepts a name unsafe for units."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from celery_topology import TopologyError, load
from celery_topology.topology.validate import check

CHARS = "aqz09_-.@%$;:'\"` /\\\n\t\r\x00\x1b*?[]!~#&|<>(){},=+é\u2028"
HOSTILE = [*CHARS, "..", "${X}", "%h", "%p", "$("]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# The revised grammars: queue names as the brokers take them, pool names that stay safe for unit names.
SAFE_QUEUE = re.compile(r"(?!amq\.)[!-+\--\[\]-~]{1,200}")
SAFE_POOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SAFE_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
SAFE_PATTERN = re.compile(r"[A-Za-z0-9_.*?!\[\]-]+")
SAFE_HOSTNAME = re.compile(r"(?![-.])([A-Za-z0-9_.-]|%[hndiI])+(@([A-Za-z0-9_.-]|%[hndiI])+)?")
SAFE_PATH = re.compile(r"(/[A-Za-z0-9_.@+-]+)+")


def hostile(regex: str) -> st.SearchStrategy[str]:
    """Valid-looking text, hostile text, and valid text with hostile pieces spliced in."""
    valid = st.from_regex(regex, fullmatch=True)
    noise = st.lists(st.sampled_from(HOSTILE), max_size=12).map("".join)
    spliced = st.tuples(valid, noise, valid).map("".join)
    return st.one_of(valid, noise, spliced, st.text(max_size=40))


ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.lists(st.integers())
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def topology(queue: str, pool: str, hostname: str, path: str, pattern: str, user: str, size: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "shop.app",
        "broker": {"url": "redis://localhost:6379/0"},
        "defaults": {"queue": queue},
        "queues": {queue: {}},
        "routes": {pattern: queue},
        "pools": {pool: {"queues": [queue], "hostname": hostname, "concurrency": size}},
        "deploy": {"user": user, "working_directory": path, "celery": f"{path}/.venv/bin/celery"},
    }


FIELDS = {
    "queue": r"[a-z][a-z0-9_-]{0,8}",
    "pool": r"[a-z][a-z0-9_-]{0,8}",
    "hostname": r"[a-z]{1,6}@%h",
    "path": r"(/[a-z.]{1,6}){1,3}",
    "pattern": r"[a-z]{1,5}\.[a-z*?]{1,5}",
    "user": r"[a-z]{1,8}",
}


@SETTINGS
@given(data=st.data(), target=st.sampled_from([*FIELDS, "size"]))
def test_hostile_values_never_crash_nor_pass_unsafe(workdir: Path, data: st.DataObject, target: str) -> None:
    """One field hostile per example, the others valid, so that acceptance is reached and checked too."""
    values: dict[str, Any] = {
        name: data.draw(hostile(regex) if name == target else st.from_regex(regex, fullmatch=True), label=name)
        for name, regex in FIELDS.items()
    }
    values["size"] = data.draw(ANY_VALUE if target == "size" else st.integers(min_value=1, max_value=16), label="size")
    path = workdir / "topology.yaml"
    path.write_text(yaml.safe_dump(topology(**values), allow_unicode=True))
    try:
        accepted = load(path, environ={})
    except TopologyError as exc:
        event("refused")
        assert exc.problems and all(p.severity in ("error", "warning") for p in exc.problems)
        assert all("\n" not in str(p) for p in exc.problems)
        return
    event("accepted")
    assert accepted.deploy is not None
    (queue,), (pool,), (pattern,) = accepted.queues, accepted.pools, accepted.routes
    assert SAFE_QUEUE.fullmatch(queue) and SAFE_POOL.fullmatch(pool)
    assert SAFE_PATTERN.fullmatch(pattern)
    assert SAFE_HOSTNAME.fullmatch(accepted.pool_hostname(pool))
    assert SAFE_USER.fullmatch(accepted.deploy.user)
    directory = accepted.deploy.working_directory
    assert SAFE_PATH.fullmatch(directory) and not {".", ".."} & set(directory.split("/"))
    size = accepted.pools[pool].concurrency
    assert size is None or (type(size) is int and 1 <= size <= 1024)


YAMLISH = st.text(alphabet=st.sampled_from(CHARS + "versionapqueuspol1 -:\n\n  "), max_size=300)


@SETTINGS
@given(head=st.sampled_from(["", "version: 1\n", "version: 1\napp: shop.app\nqueues:\n  "]), body=YAMLISH)
def test_arbitrary_text_gives_problems_not_tracebacks(workdir: Path, head: str, body: str) -> None:
    path = workdir / "topology.yaml"
    path.write_bytes((head + body).encode("utf-8", "surrogatepass"))
    topology, problems = check(path, environ={})
    assert topology is None and any(p.severity == "error" for p in problems)
    for problem in problems:
        text = str(problem)
        assert "\n" not in text and text.startswith(str(path)) and text.endswith(f"[{problem.code}]")
        assert problem.line is None or (problem.line >= 1 and (problem.col or 0) >= 1)
