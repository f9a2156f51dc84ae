"""Real deployments fit: each project under tests/data/realworld/ validates, renders, and routes and
schedules exactly as its own Celery settings do.

Every directory holds `topology.yaml` (the deployment in the topology format), `celery_settings.py`
(the project's own Celery settings as plain Celery settings, with TASK_NAMES to route, ENV for the
variables the files read and, where the project has them, CUSTOM_SCHEDULES: beat entries whose
schedule is an object in the project's code) and NOTES.md (where every value came from).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.beat import ScheduleEntry
from celery.schedules import crontab, schedule

import celery_topology

from support import run_cli

REALWORLD = Path(__file__).resolve().parent / "data" / "realworld"
PROJECTS = sorted(p.name for p in REALWORLD.iterdir() if (p / "topology.yaml").is_file())
START = datetime(2026, 3, 28, 22, 17, 43, tzinfo=UTC)  # a Saturday night, a DST change ahead in Europe
RUNS = 20


def settings_of(project: str) -> types.ModuleType:
    """The project's `celery_settings.py`, imported from its file (the directory names are not packages)."""
    path = REALWORLD / project / "celery_settings.py"
    spec = importlib.util.spec_from_file_location(f"realworld_{project.replace('-', '_')}_settings", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def custom_schedules(settings: types.ModuleType) -> dict[str, tuple[str, schedule]]:
    """Stand-ins for schedule objects in the project's code: a distinct interval per entry."""
    found: dict[str, tuple[str, schedule]] = {}
    for i, (name, (task, _path)) in enumerate(sorted(getattr(settings, "CUSTOM_SCHEDULES", {}).items())):
        found[name] = (task, schedule(run_every=timedelta(seconds=61 + 7 * i)))
    return found


@pytest.fixture(params=PROJECTS)
def project(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """One project, with the environment its files read set, and its code's schedule objects importable."""
    name: str = request.param
    settings = settings_of(name)
    for key, value in getattr(settings, "ENV", {}).items():
        monkeypatch.setenv(key, value)
    stubs = custom_schedules(settings)
    for entry, (_task, path) in getattr(settings, "CUSTOM_SCHEDULES", {}).items():
        module_name, _, attr = path.partition(":")
        parts = module_name.split(".")
        for depth in range(1, len(parts) + 1):
            dotted = ".".join(parts[:depth])
            if dotted not in sys.modules:
                monkeypatch.setitem(sys.modules, dotted, types.ModuleType(dotted))
        monkeypatch.setattr(sys.modules[module_name], attr, stubs[entry][1], raising=False)
    yield name


def cli_env() -> dict[str, str]:
    return dict(os.environ)


def test_validates(project: str) -> None:
    result = run_cli("--file", REALWORLD / project / "topology.yaml", "validate", env=cli_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["systemd", "supervisor"])
def test_renders(project: str, target: str, tmp_path: Path) -> None:
    out = tmp_path / target
    result = run_cli("--file", REALWORLD / project / "topology.yaml", "render", target, "-o", out, env=cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert any(out.iterdir()), f"render {target} wrote nothing"


def their_app(settings: types.ModuleType) -> Celery:
    app = Celery(f"{settings.__name__}-theirs", set_as_current=False)
    app.config_from_object(settings)
    return app


def our_app(project: str) -> Celery:
    app = Celery(f"{project}-topology", set_as_current=False)
    celery_topology.configure(app, REALWORLD / project / "topology.yaml")
    return app


def queue_of(app: Celery, name: str) -> str:
    options = app.amqp.router.route({}, name)
    queue = options.get("queue", app.conf.task_default_queue)
    return str(getattr(queue, "name", queue))


def test_routes_as_celery(project: str) -> None:
    settings = settings_of(project)
    theirs, ours = their_app(settings), our_app(project)
    assert settings.TASK_NAMES, "TASK_NAMES is empty"
    expected = {name: queue_of(theirs, name) for name in settings.TASK_NAMES}
    found = {name: queue_of(ours, name) for name in settings.TASK_NAMES}
    assert found == expected


def next_runs(entry: ScheduleEntry, start: datetime) -> list[datetime]:
    """The next RUNS run times after `start`, in UTC, from the schedule's own arithmetic."""
    when, runs, last = entry.schedule, [], start
    for _ in range(RUNS):
        if isinstance(when, crontab):
            base, delta, _now = when.remaining_delta(last)
            last = base + delta  # ffwd: the next matching minute strictly after `last`, local time
        else:
            last = last + when.run_every
        runs.append(last.astimezone(UTC))
    return runs


def entries(app: Celery, extra: dict[str, tuple[str, schedule]] | None = None) -> dict[str, ScheduleEntry]:
    table: dict[str, dict[str, Any]] = dict(app.conf.beat_schedule or {})
    for name, (task, when) in (extra or {}).items():
        table[name] = {"task": task, "schedule": when}
    return {name: ScheduleEntry(name=name, app=app, **fields) for name, fields in table.items()}


def options_given(entry: ScheduleEntry, keys: set[str]) -> dict[str, Any]:
    return {key: getattr(entry.options.get(key), "name", entry.options.get(key)) for key in sorted(keys)}


def test_beat_as_celery(project: str) -> None:
    settings = settings_of(project)
    theirs_app, ours_app = their_app(settings), our_app(project)
    theirs = entries(theirs_app, custom_schedules(settings))
    ours = entries(ours_app)
    assert sorted(ours) == sorted(theirs)
    assert str(ours_app.timezone) == str(theirs_app.timezone)
    for name, expected in theirs.items():
        found = ours[name]
        assert found.task == expected.task, name
        assert next_runs(found, START) == next_runs(expected, START), name
        assert tuple(found.args or ()) == tuple(expected.args or ()), name
        assert dict(found.kwargs or {}) == dict(expected.kwargs or {}), name
        given = set(expected.options)
        assert options_given(found, given) == options_given(expected, given), name
