"""What a task's own code sets about retries wins over the topology: decorator options, a `base=` class, `task_cls`.

Real Celery apps on an in-memory broker; `task.apply()` runs the task (and Celery's eager retries)
in this process, so the counts below are the tries Celery really made.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery import Celery, Task

from celery_topology import configure
from celery_topology.runtime.marks import POLICY_MARK
from celery_topology.topology.model import Topology

pytestmark = pytest.mark.celery_internals  # CI also runs these on the lowest supported Celery

ERRORS = {"key": KeyError, "connection": ConnectionError}


def topology() -> Topology:
    body = {
        "version": 1,
        "app": "app",
        "broker": {"url": "memory://"},
        "defaults": {"retry": {"max_retries": 4, "delay": 5, "errors": ["ConnectionError", "json.JSONDecodeError"]}},
        "queues": {"default": {}},
        "routes": {"*": {"queue": "default", "time_limit": 9, "retry": {"backoff": "fixed"}}},
        "pools": {"all": {"queues": ["default"]}},
    }
    return Topology.model_validate(body)


class RetryingTask(Task):  # type: ignore[misc]
    autoretry_for = (KeyError,)
    max_retries = 10
    retry_backoff = 5


def tries(task: Task, error: str) -> int:
    """How many times Celery ran `task` when every try raises ERRORS[error]."""
    calls: list[None] = []
    task.__dict__["_calls"] = calls
    result = task.apply((error,))
    assert result.state == "FAILURE" and isinstance(result.result, ERRORS[error])
    return len(calls)


def failing(app: Celery, name: str, **options: Any) -> None:
    @app.task(name=name, bind=True, shared=False, **options)
    def run(self: Task, error: str) -> None:
        self._calls.append(None)
        raise ERRORS[error]("boom")


@pytest.mark.parametrize("how", ["base", "task_cls"])
def test_base_class_retry_settings_survive_configure(how: str) -> None:
    app = Celery("base", set_as_current=False, **({"task_cls": RetryingTask} if how == "task_cls" else {}))
    configure(app, topology())
    failing(app, "code_wins.based", **({"base": RetryingTask} if how == "base" else {}))
    app.finalize()
    task = app.tasks["code_wins.based"]
    assert (task.autoretry_for, task.max_retries, task.retry_backoff) == ((KeyError,), 10, 5)
    assert task.default_retry_delay == Task.default_retry_delay and "retry_jitter" not in vars(task)
    assert task.time_limit == 9 and hasattr(task, POLICY_MARK)  # the time limit still comes from the topology
    assert tries(task, "key") == 11
    assert tries(task, "connection") == 1  # the topology's exceptions were not added


def test_decorator_autoretry_keeps_its_own_policy() -> None:
    app = Celery("decorated", set_as_current=False)
    configure(app, topology())
    failing(app, "code_wins.own", autoretry_for=(KeyError,), max_retries=2)
    app.finalize()
    task = app.tasks["code_wins.own"]
    assert (task.autoretry_for, task.max_retries) == ((KeyError,), 2)
    assert task.default_retry_delay == Task.default_retry_delay
    assert not {"retry_backoff", "retry_jitter", "retry_backoff_max"} & set(vars(task))
    assert task.time_limit == 9
    assert tries(task, "key") == 3
    assert tries(task, "connection") == 1


def test_plain_task_gets_the_topology_policy() -> None:
    app = Celery("plain", set_as_current=False)
    configure(app, topology())
    failing(app, "code_wins.plain")
    app.finalize()
    task = app.tasks["code_wins.plain"]
    assert task.autoretry_for == (ConnectionError, json.JSONDecodeError)
    assert (task.max_retries, task.default_retry_delay, task.retry_backoff, task.time_limit) == (4, 5, False, 9)
    assert tries(task, "connection") == 5
    assert tries(task, "key") == 1
