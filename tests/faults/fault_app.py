"""The app the fault tests' workers run (`celery -A fault_app:app`), configured from CELERY_TOPOLOGY_FILE.

Every task appends to a ledger outside the broker (FAULT_LEDGER, one JSON line per event, O_APPEND):
`start` when a run begins and `done` when it ends, with the task id, the pid, the worker's name and
the queue the message came from. With FAULT_UNCHECKED=1 the topology is built as a bare model,
skipping validation: how a retry delay longer than the visibility timeout behaves if nothing stops it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import yaml
from celery import Celery, Task

from celery_topology import Topology, configure

app = Celery("fault_app")
if os.environ.get("FAULT_UNCHECKED") == "1":
    document = yaml.safe_load(Path(os.environ["CELERY_TOPOLOGY_FILE"]).read_text())
    document["broker"]["url"] = os.environ["CELERY_BROKER_URL"]
    configure(app, Topology.model_validate(document))
else:
    configure(app)


def record(task: Task, event: str) -> None:
    request = task.request
    line = {
        "id": request.id,
        "event": event,
        "task": task.name,
        "pid": os.getpid(),
        "host": request.hostname,
        "queue": (request.delivery_info or {}).get("routing_key"),
        "retries": request.retries,
    }
    fd = os.open(os.environ["FAULT_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def work(self: Task, seconds: float) -> None:
    record(self, "start")
    time.sleep(seconds)
    record(self, "done")


def flaky(self: Task) -> None:
    """Fails with ConnectionError on its first attempt (retried by the topology's policy), then succeeds."""
    record(self, "start")
    if self.request.retries == 0:
        record(self, "failed")
        raise ConnectionError("first attempt fails")
    record(self, "done")


TASKS: dict[str, Any] = {
    name: app.task(bind=True, name=name)(work)
    for name in ("faults.alpha.work", "faults.beta.work", "faults.gamma.work", "faults.other.work")
}
TASKS["faults.flaky"] = app.task(bind=True, name="faults.flaky")(flaky)
