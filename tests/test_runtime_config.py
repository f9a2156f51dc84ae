"""celery_settings(topology) and configure(app): the settings themselves, without a broker."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import QueueNotFound
from celery.schedules import crontab

from celery_topology import TopologyError, celery_config, celery_settings, configure, load, priority
from celery_topology.runtime.marks import POLICY_MARK, PUBLISHED_HEADER
from celery_topology.topology.model import Topology

from support import ROOT

pytestmark = pytest.mark.celery_internals  # CI also runs these on the lowest supported Celery

SHIPPED = ROOT / "topology.yaml"


def small(broker: str = "redis://127.0.0.1:6379/0", **extra: Any) -> Topology:
    body = {
        "version": 1,
        "app": "app",
        "broker": {"url": broker},
        "defaults": {"retry": {"max_retries": 4, "delay": 5, "errors": ["ConnectionError", "json.JSONDecodeError"]}},
        "queues": {"default": {}, "fast": {}, "plain": {"max_priority": 0}},
        "routes": {"*": {"queue": "fast", "priority": 7, "time_limit": 9, "retry": {"backoff": "fixed"}}},
        "pools": {"all": {"queues": ["default", "fast", "plain"]}},
        **extra,
    }
    return Topology.model_validate(body)


def test_shipped_settings() -> None:
    config = celery_settings(load(SHIPPED, environ={}))
    queues = {q.name: q for q in config["task_queues"]}
    assert list(queues) == ["default", "agent", "ingestion", "evaluation", "benchmark"]
    for name, queue in queues.items():
        assert (queue.exchange.name, queue.exchange.type, queue.routing_key) == (name, "direct", name)
        assert not queue.queue_arguments  # Redis: no x-max-priority
    assert config["task_default_queue"] == config["task_default_routing_key"] == "default"
    assert config["task_create_missing_queues"] is False
    assert "task_default_priority" not in config
    assert not {"task_acks_late", "task_reject_on_worker_lost", "worker_prefetch_multiplier"} & set(config)
    assert config["broker_transport_options"] == {"visibility_timeout": 7200, "priority_steps": list(range(10))}
    assert config["result_backend_transport_options"] == {"visibility_timeout": 7200}
    assert (config["task_time_limit"], config["task_soft_time_limit"]) == (1800, 1500)
    assert config["broker_url"] == config["result_backend"] == "redis://localhost:6379/0"
    nightly = config["beat_schedule"]["nightly-evaluation"]
    assert nightly["schedule"] == crontab(minute="0", hour="2") and nightly["options"] == {"expires": 3600}
    assert config["timezone"] == "UTC"


def _unstamped(answer: dict[str, Any]) -> dict[str, Any]:
    """A route's answer without its publish-time header, which is checked to be now."""
    headers = answer.pop("headers")
    assert list(headers) == [PUBLISHED_HEADER] and abs(headers[PUBLISHED_HEADER] - time.time()) < 60
    return answer


def test_routes_carry_native_priorities() -> None:
    route = celery_settings(load(SHIPPED, environ={}))["task_routes"][0]
    intake = route("agentic_clinical_assistant.workers.tasks.agent.run_intake_agent")
    assert _unstamped(intake) == {"queue": "agent", "priority": 1}
    assert _unstamped(route("not.routed")) == {"queue": "default", "priority": 4}  # 5 of 0..9 on Redis' scale
    rabbit = celery_settings(small("amqp://127.0.0.1:5672//"))
    assert _unstamped(rabbit["task_routes"][0]("anything")) == {"queue": "fast", "priority": 7}
    arguments = {q.name: q.queue_arguments for q in rabbit["task_queues"]}
    assert arguments == {"default": {"x-max-priority": 9}, "fast": {"x-max-priority": 9}, "plain": None}
    assert "broker_transport_options" not in rabbit


def test_policies_reach_tasks_but_not_celerys_own() -> None:
    app = Celery("policies", set_as_current=False)
    configure(app, small())

    @app.task(name="work.plain")
    def plain() -> None: ...

    @app.task(name="work.own", max_retries=7, autoretry_for=(KeyError,))
    def own() -> None: ...

    app.finalize()
    task = app.tasks["work.plain"]
    assert task.autoretry_for == (ConnectionError, __import__("json").JSONDecodeError)
    assert (task.max_retries, task.default_retry_delay, task.retry_backoff, task.retry_jitter) == (4, 5, False, False)
    assert task.time_limit == 9 and hasattr(task, "_orig_run")
    assert (app.tasks["work.own"].max_retries, app.tasks["work.own"].autoretry_for) == (7, (KeyError,))
    builtin = [t for name, t in app.tasks.items() if name.startswith("celery.")]
    assert builtin and not any(hasattr(t, "_orig_run") or hasattr(t, POLICY_MARK) for t in builtin)


def test_unknown_exception_is_refused_at_configure() -> None:
    topology = small(routes={"work.*": {"retry": {"errors": ["TimeoutError", "nope.Missing"]}}})
    with pytest.raises(TopologyError) as caught:
        configure(Celery("broken", set_as_current=False), topology)
    [problem] = caught.value.problems
    assert (problem.path, problem.code) == ("routes.work.*.retry.errors", "retry-error")
    assert problem.message.startswith("'nope.Missing' is not an importable exception class")


def test_configure_reads_celery_topology_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELERY_TOPOLOGY_FILE", str(SHIPPED))
    app = Celery("from-env", set_as_current=False)
    assert configure(app).app == "agentic_clinical_assistant.workers.celery_app"
    assert app.conf.task_default_queue == "default" and app.conf.task_create_missing_queues is False


def test_validate_path_does_not_import_celery() -> None:
    code = f"import sys, celery_topology; celery_topology.load({str(SHIPPED)!r}); print(sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_beat_entries_with_their_own_queue_and_priority() -> None:
    entry = {"task": "work.tick", "every": 90, "args": [1], "kwargs": {"k": "v"}, "queue": "plain", "priority": 8}
    beat = {
        "timezone": "Asia/Tokyo",
        "schedule": {"tick": entry, "nightly": {"task": "work.n", "cron": "30 2 * * 1-5"}},
    }
    config = celery_settings(small(beat=beat))
    tick, nightly = config["beat_schedule"]["tick"], config["beat_schedule"]["nightly"]
    assert (tick["schedule"].total_seconds(), tick["args"], tick["kwargs"]) == (90, (1,), {"k": "v"})
    assert tick["options"] == {"queue": "plain", "priority": 1}  # 8 on Redis' inverted scale
    assert nightly["schedule"] == crontab(minute="30", hour="2", day_of_week="1-5") and nightly["options"] == {}
    assert config["timezone"] == "Asia/Tokyo"


def test_a_misspelled_queue_fails_instead_of_being_created() -> None:
    app = Celery("typo", set_as_current=False)
    configure(app, small())
    with pytest.raises(QueueNotFound, match="'fsat' missing from task_queues"):
        app.send_task("work.any", queue="fsat")


SAFE = ("task_acks_late", "task_reject_on_worker_lost", "worker_prefetch_multiplier")


def test_safe_defaults_fill_only_what_the_app_has_not_set() -> None:
    class Settings:
        task_acks_late = False
        task_default_queue = "celery"  # the topology declares its own default queue: the topology wins

    app = Celery("precedence", set_as_current=False)
    app.config_from_object(Settings)
    app.conf.update(worker_prefetch_multiplier=4)
    configure(app, small())
    assert [app.conf[key] for key in SAFE] == [False, True, 4]
    assert app.conf.task_default_queue == "default"
    fresh = Celery("fresh", set_as_current=False)
    configure(fresh, small())
    assert [fresh.conf[key] for key in SAFE] == [True, True, 1]


def test_celery_config_is_deprecated_and_keeps_its_old_answer() -> None:
    with pytest.warns(DeprecationWarning, match="configure"):
        config = celery_config(small())
    assert [config[key] for key in SAFE] == [True, True, 1]
    assert _unstamped(config["task_routes"][0]("x")) == _unstamped(celery_settings(small())["task_routes"][0]("x"))


def test_priority_helper_gives_the_native_value() -> None:
    redis_topology, rabbit_topology = small(), small("amqp://127.0.0.1:5672//")
    assert [priority(redis_topology, level) for level in (0, 8, 9)] == [9, 1, 0]
    assert [priority(rabbit_topology, level) for level in (0, 8, 9)] == [0, 8, 9]
    app = Celery("helper", set_as_current=False)
    configure(app, redis_topology)
    assert priority(app, 8) == 1
    with pytest.raises(ValueError, match=r"outside 0\.\.9"):
        priority(app, 10)
    with pytest.raises(LookupError, match="not configured"):
        priority(Celery("plain", set_as_current=False), 5)
