"""`celery-topology import`: real projects' Celery settings in, a topology that validates and runs the same out."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from celery_topology import load
from celery_topology.topology.routing import Router

from support import EXAMPLES, ROOT, run_cli

REALWORLD = Path(__file__).parent / "data" / "realworld"
SECRET = "Sekr1t-pw-8841"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    return {**env, **extra}


def _app(tmp_path: Path, project: str, broker: str, routes: str = "") -> str:
    """A Celery app built from `project`'s published settings, its tasks registered by name."""
    settings = (REALWORLD / project / "celery_settings.py").read_text()
    (tmp_path / "published_settings.py").write_text(settings)
    (tmp_path / "adopted.py").write_text(
        "from celery import Celery\n"
        "import published_settings\n"
        "app = Celery('adopted')\n"
        "app.config_from_object(published_settings)\n"
        f"app.conf.broker_url = {broker!r}\n"
        f"{routes}\n"
        "def work():\n    pass\n"
        "for name in published_settings.TASK_NAMES:\n"
        "    app.task(name=name)(work)\n"
    )
    return "adopted:app"


def test_weblate_dict_and_glob_routes_crontab_and_interval_beat(tmp_path: Path) -> None:
    app = _app(tmp_path, "weblate", f"redis://:{SECRET}@127.0.0.1:6379/0")
    result = run_cli("import", app, "-o", "topology.yaml", "--verify", cwd=tmp_path, env=_env())
    assert result.returncode == 0, result.stdout + result.stderr
    written = (tmp_path / "topology.yaml").read_text()
    assert SECRET not in written + result.stdout + result.stderr
    assert "url: ${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}" in written
    assert "--verify: adopted:app and topology.yaml route every registered task" in result.stdout
    assert "acks_late turned on for 21 task(s)" in result.stdout
    topology = load(tmp_path / "topology.yaml", environ={})
    assert list(topology.routes)[1] == "weblate.accounts.tasks.notify_*"
    assert topology.beat is not None and topology.beat.schedule["fulltext-cleanup"].cron == "30 2 * * saturday"
    assert topology.beat.schedule["update-remotes"].every == 86400
    validate = run_cli("--file", "topology.yaml", "validate", cwd=tmp_path, env=_env())
    assert validate.returncode == 0, validate.stdout


def test_a_changed_file_fails_verify_naming_the_task_and_the_entry(tmp_path: Path) -> None:
    app = _app(tmp_path, "weblate", "redis://127.0.0.1:6379/0")
    assert run_cli("import", app, "-o", "topology.yaml", cwd=tmp_path, env=_env()).returncode == 0
    path = tmp_path / "topology.yaml"
    text = path.read_text()
    text = text.replace("weblate.accounts.tasks.send_mails: notify", "weblate.accounts.tasks.send_mails: backup")
    path.write_text(text.replace("cron: 30 2 * * sunday", "cron: 30 3 * * sunday"))
    result = run_cli("import", app, "-o", "topology.yaml", "--verify-only", cwd=tmp_path, env=_env())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFFERENT task weblate.accounts.tasks.send_mails: queue: app 'notify', topology 'backup'" in result.stdout
    assert (
        "DIFFERENT beat entry 'fulltext-optimize': run 1 from 2026-01-01T00:00:30+00:00:"
        " app '2026-01-04T02:30:00+00:00', topology '2026-01-04T03:30:00+00:00'"
    ) in result.stdout


def test_router_callables_are_reported_with_the_tasks_they_answered_for(tmp_path: Path) -> None:
    router = (
        "def by_prefix(name, args, kwargs, options, task=None, **kw):\n"
        "    return {'queue': 'backup'} if name.startswith('weblate.utils.') else None\n"
        "app.conf.task_routes = (by_prefix, published_settings.task_routes)\n"
    )
    app = _app(tmp_path, "weblate", "redis://127.0.0.1:6379/0", router)
    result = run_cli("import", app, "-o", "topology.yaml", "--verify", cwd=tmp_path, env=_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "not converted: router by_prefix is code, not convertible; it answered for 2 registered task(s):"
        " weblate.utils.tasks.database_backup, weblate.utils.tasks.settings_backup (written as exact routes: review them)"
    ) in result.stderr
    assert "#   - router by_prefix is code" in (tmp_path / "topology.yaml").read_text()


def test_the_shipped_example_app_reproduces_the_shipped_routing_and_schedule(tmp_path: Path) -> None:
    shipped = load(ROOT / "topology.yaml", environ={})
    env = _env(CELERY_TOPOLOGY_FILE=str(ROOT / "topology.yaml"))
    out = tmp_path / "imported.yaml"
    result = run_cli(
        "import", "agentic_clinical_assistant.workers.celery_app", "-o", out, "--verify", cwd=EXAMPLES, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    imported = load(out, environ={})
    names = [n for module in ("agent", "ingestion", "evaluation") for n in _task_names(module)] + ["other.task"]
    theirs, ours = Router(shipped), Router(imported)
    for name in names:
        a, b = theirs.resolve(name), ours.resolve(name)
        assert (a.queue, a.priority, a.retry, a.time_limit) == (b.queue, b.priority, b.retry, b.time_limit), name
    assert imported.beat == shipped.beat
    assert yaml.safe_load(out.read_text())["routes"] == yaml.safe_load((ROOT / "topology.yaml").read_text())["routes"]


def _task_names(module: str) -> list[str]:
    source = (EXAMPLES / "agentic_clinical_assistant" / "workers" / "tasks" / f"{module}.py").read_text()
    functions = [line[4:].split("(")[0] for line in source.splitlines() if line.startswith("def ")]
    return [f"agentic_clinical_assistant.workers.tasks.{module}.{f}" for f in functions]


def test_an_app_or_worker_line_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    app = _app(tmp_path, "weblate", "redis://127.0.0.1:6379/0")
    cases = {
        ("nosuch.module",): "cannot load the Celery app 'nosuch.module': No module named 'nosuch'",
        ("adopted:nothere",): "module 'adopted' has no attribute 'nothere'",
        ("published_settings:TASK_NAMES",): "'published_settings:TASK_NAMES' is not a Celery app (list)",
        (app, "--worker", "celery -A adopted worker -c four"): "-c takes a whole number, not 'four'",
        (app, "--worker", "celery -A adopted worker --autoscale=ten,2"): "--autoscale takes a whole number, not 'ten'",
    }
    for args, message in cases.items():
        result = run_cli("import", *args, "-o", "topology.yaml", cwd=tmp_path, env=_env())
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and message in result.stderr, result.stderr
        assert not (tmp_path / "topology.yaml").exists()


def test_secrets_in_the_apps_settings_are_never_written(tmp_path: Path) -> None:
    """A sentinel password in the transport options and an api_key in beat kwargs become ${NAME}, never the value."""
    digest = (
        "app.conf.beat_schedule['digest'] = {'task': 'weblate.accounts.tasks.send_mails', 'schedule': 3600,"
        f" 'kwargs': {{'api_key': {SECRET!r}}}}}\n"
    )
    sentinel = f"app.conf.broker_transport_options = {{'sentinel_kwargs': {{'password': {SECRET!r}}}}}\n"
    app = _app(tmp_path, "weblate", "redis://127.0.0.1:6379/0", digest + sentinel)
    result = run_cli("import", app, "-o", "topology.yaml", cwd=tmp_path, env=_env())
    written = (tmp_path / "topology.yaml").read_text()
    assert SECRET not in written + result.stdout + result.stderr
    assert "kwargs: {api_key: '${BEAT_SCHEDULE_DIGEST_KWARGS_API_KEY}'}" in written
    assert "sentinel_kwargs: {password: '${BROKER_TRANSPORT_OPTIONS_SENTINEL_KWARGS_PASSWORD}'}" in written
    (tmp_path / "second").mkdir()
    app = _app(tmp_path / "second", "weblate", "redis://127.0.0.1:6379/0", digest)
    given = _env(BEAT_SCHEDULE_DIGEST_KWARGS_API_KEY=SECRET)  # the operator supplies it: the round trip holds
    result = run_cli("import", app, "-o", "topology.yaml", "--verify", cwd=tmp_path / "second", env=given)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in (tmp_path / "second" / "topology.yaml").read_text() + result.stdout + result.stderr

    stale = _env(BEAT_SCHEDULE_DIGEST_KWARGS_API_KEY="rotated-key")  # not the app's: --verify says so, masked
    result = run_cli("import", app, "-o", "topology.yaml", "--verify-only", cwd=tmp_path / "second", env=stale)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFFERENT beat entry 'digest': kwargs: app {'api_key': '***'}, topology {'api_key': '***'}" in result.stdout
    assert SECRET not in result.stdout + result.stderr and "rotated-key" not in result.stdout + result.stderr
