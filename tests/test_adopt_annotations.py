"""`celery-topology import` reads task_annotations as Celery applies them: exact names and '*' ('*' last), mappings
and annotation objects; --verify compares every option they set, and a changed option fails it."""

from __future__ import annotations

from pathlib import Path

import yaml
from test_adopt import _app, _env

from support import run_cli

ANNOTATIONS = """
def around(method):
    def wrapped(*args, **kwargs):
        return method(*args, **kwargs)
    return wrapped

class SlowBackups:
    def annotate(self, task):
        if task.name.startswith("weblate.utils."):
            return {"time_limit": 900, "soft_time_limit": 600}

app.conf.task_annotations = [
    {
        "weblate.accounts.tasks.notify_change": {"rate_limit": "10/s", "time_limit": 60, "acks_late": False},
        "weblate.memory.tasks.import_memory": {
            "max_retries": 5, "default_retry_delay": 30, "expires": 300, "serializer": "pickle", "@on_failure": around,
        },
        "weblate.trans.tasks.auto_translate": {"rate_limit": "1/m", "track_started": False},
        "*": {"track_started": True, "ignore_result": True},
    },
    SlowBackups(),
]
"""


def _import(tmp_path: Path, extra: str) -> tuple[str, str]:
    app = _app(tmp_path, "weblate", "redis://127.0.0.1:6379/0", ANNOTATIONS + extra)
    result = run_cli("import", app, "-o", "topology.yaml", "--verify", cwd=tmp_path, env=_env())
    return result.stdout, result.stderr


def test_annotations_become_defaults_and_routes_and_verify_holds(tmp_path: Path) -> None:
    out, err = _import(tmp_path, "")
    assert "route every registered task and schedule every beat entry the same" in out, out + err
    data = yaml.safe_load((tmp_path / "topology.yaml").read_text())
    assert data["defaults"] == {"queue": "celery", "priority": 9, "track_started": True, "ignore_result": True}
    routes = data["routes"]
    # the exact name keeps the queue its glob route gave it; '*' is applied after it, so its track_started goes
    assert routes["weblate.accounts.tasks.notify_change"] == {
        "queue": "notify",
        "rate_limit": "10/s",
        "time_limit": 60,
        "acks_late": False,
    }
    assert routes["weblate.trans.tasks.auto_translate"] == {"queue": "translate", "rate_limit": "1/m"}
    assert routes["weblate.memory.tasks.import_memory"] == {
        "queue": "memory",
        "expires": 300,
        "serializer": "pickle",
        "retry": {"max_retries": 5, "delay": 30},
    }
    assert routes["weblate.utils.tasks.database_backup"] == {
        "queue": "backup",
        "time_limit": 900,
        "soft_time_limit": 600,
    }
    assert (
        "not converted: annotation SlowBackups is code, not convertible; it answered for 2 registered task(s):"
        " weblate.utils.tasks.database_backup, weblate.utils.tasks.settings_backup (written as route options: review them)"
    ) in err
    assert "not converted: annotation 'weblate.memory.tasks.import_memory': @on_failure wraps a method (code)" in err
    validate = run_cli("--file", "topology.yaml", "validate", "--strict", cwd=tmp_path, env=_env())
    assert validate.returncode == 0, validate.stdout

    path = tmp_path / "topology.yaml"
    path.write_text(
        path.read_text().replace("rate_limit: 10/s", "rate_limit: 20/s").replace("expires: 300", "expires: 60")
    )
    app = "adopted:app"
    result = run_cli("import", app, "-o", "topology.yaml", "--verify-only", cwd=tmp_path, env=_env())
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "DIFFERENT task weblate.accounts.tasks.notify_change: rate_limit: app '10/s', topology '20/s'" in result.stdout
    )
    assert "DIFFERENT task weblate.memory.tasks.import_memory: expires: app 300, topology 60" in result.stdout


def test_an_annotation_over_an_option_the_code_sets_is_reported_and_verify_shows_the_code_winning(
    tmp_path: Path,
) -> None:
    coded = (
        "@app.task(name='weblate.trans.tasks.coded', rate_limit='2/s')\n"
        "def coded():\n    pass\n"
        "app.conf.task_annotations[0]['weblate.trans.tasks.coded'] = {'rate_limit': '5/s'}\n"
    )
    out, err = _import(tmp_path, coded)
    assert (
        "not converted: task weblate.trans.tasks.coded: its code sets rate_limit, which Celery's annotation overrides;"
        " under the topology the code's value wins: remove it from the code to keep the annotation's"
    ) in err
    assert "DIFFERENT task weblate.trans.tasks.coded: rate_limit: app '5/s', topology '2/s'" in out
    assert "--verify: 1 difference(s)" in out
