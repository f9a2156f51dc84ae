"""`celery-topology import` on Read the Docs, Saleor, Mayan EDMS and Taiga (their published settings), with
task annotations: each file validates, `--verify` holds, a changed file fails naming what changed, no secret leaks."""

from __future__ import annotations

from pathlib import Path

import yaml
from test_adopt import SECRET, _app, _env

from support import run_cli

SALEOR_SCHEDULES = '''"""Stands in for saleor.core.schedules: schedule objects of the app's own class."""
from datetime import timedelta

from celery.schedules import schedule


class initiated_schedule(schedule):
    """Saleor's classes are due when work was initiated; here, every 30 s."""


initiated_promotion_webhook_schedule = initiated_schedule(timedelta(seconds=30))
initiated_product_search_update_schedule = initiated_schedule(timedelta(seconds=20))
initiated_gift_card_search_update_schedule = initiated_schedule(timedelta(seconds=20))
initiated_page_search_update_schedule = initiated_schedule(timedelta(seconds=20))
initiated_checkout_search_update_schedule = initiated_schedule(timedelta(seconds=20))
initiated_checkout_automatic_completion_schedule = initiated_schedule(timedelta(seconds=60))
'''


def _import(tmp_path: Path, app: str, *more: str, warnings: int = 0) -> tuple[str, str, dict]:
    """Import `app` with --verify; (stdout, stderr, the written file as data), checked to hold, validate with
    `warnings` warnings and leak nothing."""
    result = run_cli("import", app, "-o", "topology.yaml", "--verify", *more, cwd=tmp_path, env=_env())
    written = (tmp_path / "topology.yaml").read_text()
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in written + result.stdout + result.stderr
    assert "route every registered task and schedule every beat entry the same" in result.stdout
    validate = run_cli("--file", "topology.yaml", "validate", cwd=tmp_path, env=_env())
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert validate.stdout.count(": warning: ") == warnings, validate.stdout
    return result.stdout, result.stderr, yaml.safe_load(written)


def test_readthedocs_settings_become_defaults_and_crontab_entries_keep_their_queue(tmp_path: Path) -> None:
    app = _app(tmp_path, "readthedocs", f"redis://:{SECRET}@127.0.0.1:6379/0")
    out, _, data = _import(tmp_path, app)
    # task_acks_late, task_ignore_result and task_time_limit are the app's own settings: written, not defaulted
    assert data["defaults"] == {
        "queue": "celery",
        "priority": 9,
        "time_limit": 3600,
        "acks_late": True,
        "ignore_result": True,
    }
    assert "acks_late turned on" not in out and "reject_on_worker_lost turned on for 19 task(s)" in out
    assert data["broker"]["visibility_timeout"] == 18000
    schedule = data["beat"]["schedule"]
    assert schedule["every-day-delete-old-page-views"] == {
        "task": "readthedocs.analytics.tasks.delete_old_page_counts",
        "cron": "27 */6 * * *",
        "queue": "web",
    }
    assert schedule["weekly-delete-old-personal-audit-logs"]["cron"] == "0 7 * * wed"
    assert schedule["quarter-archive-builds"]["kwargs"] == {"days": 1, "limit": 500}
    assert list(data["queues"]) == ["celery", "web"]


def test_saleor_custom_schedules_are_written_as_their_import_paths(tmp_path: Path) -> None:
    (tmp_path / "saleor" / "core").mkdir(parents=True)
    (tmp_path / "saleor" / "__init__.py").write_text("")
    (tmp_path / "saleor" / "core" / "__init__.py").write_text("")
    (tmp_path / "saleor" / "core" / "schedules.py").write_text(SALEOR_SCHEDULES)
    custom = (
        "from kombu.utils.imports import symbol_by_name\n"
        "for entry, (task, path) in published_settings.CUSTOM_SCHEDULES.items():\n"
        "    app.conf.beat_schedule[entry] = {'task': task, 'schedule': symbol_by_name(path)}\n"
        "app.conf.beat_scheduler = 'saleor.schedulers.schedulers.DatabaseScheduler'\n"  # its `beat --scheduler`
    )
    app = _app(tmp_path, "saleor", f"redis://default:{SECRET}@127.0.0.1:6379/0", custom)
    _, _, data = _import(tmp_path, app)
    beat = data["beat"]
    assert beat["scheduler"] == "saleor.schedulers.schedulers.DatabaseScheduler"
    assert beat["max_loop_interval"] == 300
    assert beat["schedule"]["update-products-search-vectors"] == {
        "task": "saleor.product.tasks.update_products_search_vector_task",
        "schedule": "saleor.core.schedules:initiated_product_search_update_schedule",
    }
    assert beat["schedule"]["observability-reporter"] == {
        "task": "saleor.webhook.transport.asynchronous.transport.observability_reporter_task",
        "every": 20,
        "expires": 20,
    }
    assert data["defaults"]["serializer"] == "json"
    assert len(beat["schedule"]) == 21


def _mayan(tmp_path: Path) -> str:
    backend = f"app.conf.result_backend = 'redis://:{SECRET}@127.0.0.1:6379/1'\n"
    return _app(tmp_path, "mayan-edms", f"amqp://mayan:{SECRET}@127.0.0.1:5672/mayan", backend)


def test_mayan_queue_objects_with_exchanges_and_dict_routes(tmp_path: Path) -> None:
    template = (  # partial_supervisord.tmpl, one program per worker
        "nice -n {nice} celery -A mayan worker --hostname=mayan-edms-{name}.%h --loglevel=ERROR -Ofair"
        " --queues={queues} --without-gossip --without-heartbeat --max-tasks-per-child={tasks}"
    )
    queues = {
        "worker_a": "converter,sources_fast",
        "worker_b": "indexing,parsing,document_states_medium,documents,duplicates,search,search_slow,file_caching,file_metadata,metadata,sources",
        "worker_c": "checkouts_periodic,signatures,documents_periodic,uploads,events,mailing,statistics,sources_periodic",
        "worker_d": "tools,ocr,storage_periodic",
    }
    nice = {"worker_a": 0, "worker_b": 2, "worker_c": 10, "worker_d": 15}
    workers = []
    for name, listed in queues.items():
        tasks = 10 if name == "worker_d" else 100
        workers += ["--worker", template.format(nice=nice[name], name=name, queues=listed, tasks=tasks)]
    _, _, data = _import(tmp_path, _mayan(tmp_path), *workers, warnings=1)  # as Mayan ships: no worker on 'celery'
    assert data["broker"] == {
        "url": "${CELERY_BROKER_URL:-amqp://mayan@127.0.0.1:5672/mayan}",
        "result_backend": "${CELERY_RESULT_BACKEND:-redis://127.0.0.1:6379/1}",
    }
    assert len(data["queues"]) == 25 and len(data["routes"]) == 54
    # Mayan passes delivery_mode=1 to Queue(), where kombu ignores it (Celery reads the exchange's): persistent
    assert data["queues"]["converter"] == {"max_priority": 0}
    assert data["routes"]["mayan.apps.ocr.tasks.task_document_version_ocr_process"] == "ocr"
    assert data["beat"]["schedule"]["task_document_stubs_delete"]["every"] == 600
    assert list(data["pools"]) == [f"mayan-edms-{name}" for name in queues]
    assert data["pools"]["mayan-edms-worker_d"] == {
        "queues": ["tools", "ocr", "storage_periodic"],
        "disable_rate_limits": True,  # the app's worker_disable_rate_limits
        "nice": 15,
        "hostname": "mayan-edms-worker_d.%h",
        "loglevel": "error",
        "optimization": "fair",
        "without_gossip": True,
        "without_heartbeat": True,
        "max_tasks_per_child": 10,
    }


def test_a_changed_mayan_file_fails_verify_naming_the_task_and_the_entry(tmp_path: Path) -> None:
    app = _mayan(tmp_path)
    assert run_cli("import", app, "-o", "topology.yaml", cwd=tmp_path, env=_env()).returncode == 0
    path = tmp_path / "topology.yaml"
    text = path.read_text().replace(
        "mayan.apps.ocr.tasks.task_document_version_ocr_process: ocr",
        "mayan.apps.ocr.tasks.task_document_version_ocr_process: tools",
    )
    path.write_text(text.replace("every: 600", "every: 900", 1))
    result = run_cli("import", app, "-o", "topology.yaml", "--verify-only", cwd=tmp_path, env=_env())
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "DIFFERENT task mayan.apps.ocr.tasks.task_document_version_ocr_process: queue: app 'ocr', topology 'tools'"
        in result.stdout
    )
    assert (
        "DIFFERENT beat entry 'task_document_stubs_delete': run 1 from 2026-01-01T00:00:30+00:00:"
        " app '2026-01-01 00:10:30+00:00', topology '2026-01-01 00:15:30+00:00'"
    ) in result.stdout
    assert "--verify: 4 difference(s)" in result.stdout  # the task's queue, exchange and routing key, and the entry
    assert SECRET not in result.stdout + result.stderr


def test_taiga_topic_exchange_with_binding_keys_and_a_worker_running_beat(tmp_path: Path) -> None:
    app = _app(tmp_path, "taiga", f"amqp://taiga:{SECRET}@127.0.0.1:5672/taiga")
    _, err, data = _import(tmp_path, app, "--worker", "celery -A taiga.celery worker -B --concurrency 4 -l INFO")
    # Queue('tasks', routing_key='task.#') is bound by Celery to the default exchange: tasks, topic
    assert data["queues"] == {
        "tasks": {"exchange_type": "topic", "routing_key": "task.#", "max_priority": 0},
        "transient": {"exchange": "tasks", "exchange_type": "topic", "routing_key": "transient.#", "max_priority": 0},
    }
    assert data["defaults"]["serializer"] == "pickle"
    assert data["defaults"]["dead_letter"] == "off"  # as the app: no Redis to keep them in
    # no -Q: every queue of task_queues, as `celery worker` consumes
    pool = {"queues": ["tasks", "transient"], "beat": True, "concurrency": 4, "loglevel": "info"}
    assert data["pools"] == {"tasks": pool}
    assert data["beat"] == {
        "timezone": "Europe/Madrid",
        "schedule": {
            "send-bulk-emails": {"task": "taiga.projects.notifications.tasks.send_bulk_email", "every": 120},
            "auth-flush-expired-tokens": {
                "task": "taiga.auth.token_denylist.tasks.flush_expired_tokens",
                "every": 259200,
            },
        },
    }
    assert (
        "# the app's accept_content, result_serializer have no topology key" in (tmp_path / "topology.yaml").read_text()
    )
    assert err == ""


def test_a_transient_exchange_and_a_free_text_beat_name(tmp_path: Path) -> None:
    meant = (  # Taiga's transient queue as kombu reads a delivery mode: on the exchange
        "from kombu import Exchange, Queue\n"
        "app.conf.task_queues = (Queue('tasks', routing_key='task.#'),"
        " Queue('transient', Exchange('tasks', type='topic', delivery_mode=1), routing_key='transient.#'))\n"
        "app.conf.task_routes = {'taiga.webhooks.tasks.change_webhook': 'transient'}\n"
        "app.conf.beat_schedule['Send the digest: every weekday at 07:30 (Madrid), not on holidays'] = {"
        "'task': 'taiga.projects.notifications.tasks.send_bulk_email', 'schedule': __import__('celery').schedules.crontab(minute=30, hour=7, day_of_week='mon-fri')}\n"
    )
    app = _app(tmp_path, "taiga", "amqp://guest@127.0.0.1:5672/taiga", meant)
    _, _, data = _import(tmp_path, app)
    assert data["queues"]["transient"]["delivery_mode"] == "transient"
    entry = data["beat"]["schedule"]["Send the digest: every weekday at 07:30 (Madrid), not on holidays"]
    assert entry["cron"] == "30 7 * * mon-fri"
    path = tmp_path / "topology.yaml"
    path.write_text(path.read_text().replace("    delivery_mode: transient\n", ""))
    result = run_cli("import", app, "-o", "topology.yaml", "--verify-only", cwd=tmp_path, env=_env())
    assert result.returncode == 1, result.stdout
    assert "DIFFERENT task taiga.webhooks.tasks.change_webhook: delivery_mode: app 1, topology 2" in result.stdout


def test_an_app_that_fails_to_import_is_reported_where_it_fails(tmp_path: Path) -> None:
    """The app's own code failing (not a wrong APP, which is a usage error): its file and line, exit 1."""
    (tmp_path / "broken.py").write_text(
        f"import celery\nraise RuntimeError('no broker at redis://:{SECRET}@cache:6379/0')\n"
    )
    (tmp_path / "typo.py").write_text("import celery\ndef f(:\n")
    reasons = {
        "broken": f"{tmp_path}/broken.py:2: cannot import broken:app as `celery -A broken:app` would:"
        " RuntimeError: no broker at redis://:***@cache:6379/0",
        "typo": f"{tmp_path}/typo.py:2:7: cannot import typo:app",
    }
    for module, reason in reasons.items():
        result = run_cli("import", f"{module}:app", cwd=tmp_path, env=_env())
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(reason), result.stderr
        assert "Traceback" not in result.stderr and SECRET not in result.stderr
        assert not (tmp_path / "topology.yaml").exists()
