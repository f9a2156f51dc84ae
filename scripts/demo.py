#!/usr/bin/env python3
"""Run the clinical assistant for real: a private redis-server, one worker per pool, every seed task once.

    .venv/bin/python scripts/demo.py        (or: make demo)

Starts redis-server on a free loopback port and one `celery worker` per pool of the shipped
topology.yaml (as its units would, one process each), sends each task of
examples/agentic_clinical_assistant/seed.py, prints which pool ran it, then stops everything it
started by pid. Bounded: gives up after DEMO_TIMEOUT seconds (default 180). Nothing outside a
temporary directory is written; it is removed unless something failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _launch import EXAMPLES, ROOT, celery_binary

sys.path.insert(0, str(EXAMPLES))

from agentic_clinical_assistant.seed import SEED

from celery_topology import configure, load
from celery_topology.render.plan import worker_argv
from celery_topology.topology.explain import route_info
from celery_topology.topology.model import Deploy

DEADLINE = time.monotonic() + float(os.environ.get("DEMO_TIMEOUT", "180"))


class Started:
    """A child in its own session, its output in a log; stopped by its pid (then its process group)."""

    def __init__(self, what: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.what, self.log = what, log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        print(f"started {what} (pid {self.proc.pid})", flush=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a worker's warm shutdown
            try:
                self.proc.wait(max(5.0, min(30.0, DEADLINE + 30 - time.monotonic())))
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # pool children that outlived their parent
        print(f"stopped {self.what} (pid {self.proc.pid})", flush=True)


def wait(what: str, done: Callable[[], bool], process: Started) -> None:
    while not done():
        if process.proc.poll() is not None:
            sys.exit(f"{process.what} exited ({process.proc.returncode}):\n{process.output()[-2000:]}")
        if time.monotonic() > DEADLINE:
            sys.exit(f"gave up waiting for {what}; see {process.log}")
        time.sleep(0.2)


def ran_on(workers: dict[str, Started], marker: str) -> str:
    """The pool whose worker logged the task's end (`Task name[id] succeeded/raised`), waiting up to 10 s."""
    until = min(DEADLINE, time.monotonic() + 10)
    while True:
        found = [
            pool for pool, w in workers.items() if any(marker + end in w.output() for end in ("succeeded", "raised"))
        ]
        if found or time.monotonic() > until:
            return ", ".join(found) or "-"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("the demo needs redis-server (apt-get install redis-server)")
    work = Path(tempfile.mkdtemp(prefix="celery-topology-demo-"))
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = dict(os.environ, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url)
    env.update(CELERY_TOPOLOGY_FILE=str(ROOT / "topology.yaml"), PYTHONPATH=str(EXAMPLES))
    started: list[Started] = []
    try:
        run(server, url, env, work, started)
    finally:
        for process in reversed(started):
            process.stop()
    shutil.rmtree(work)


def run(server: str, url: str, env: dict[str, str], work: Path, started: list[Started]) -> None:
    port = url.rsplit(":", 1)[1].split("/")[0]
    argv = [server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)]
    redis = Started(f"redis-server on {url}", argv, work / "redis.log", env)
    started.append(redis)
    wait("redis-server", lambda: "Ready to accept connections" in redis.output(), redis)
    topology = load(ROOT / "topology.yaml", environ=env)
    here = Deploy.model_construct(working_directory=str(work), celery=celery_binary())
    workers = {}
    for pool in topology.pools:  # one process each, as the units run them (concurrency 1: a demo, not a load)
        extra = ["--concurrency=1", "--without-gossip", "--without-mingle"]
        workers[pool] = Started(f"pool {pool}", [*worker_argv(topology, here, pool), *extra], work / f"{pool}.log", env)
        started.append(workers[pool])
    for pool, worker in workers.items():
        wait(f"pool {pool}", lambda w=worker: " ready." in w.output(), worker)  # type: ignore[misc]
    from celery import Celery

    producer = Celery("demo", set_as_current=False)
    configure(producer, topology)
    sent = {task: producer.send_task(task, args=args) for task, args in SEED.items()}
    print(f"\n{'task':<50} {'queue':<11} {'ran on pool':<12} state")
    failed = 0
    for task, result in sent.items():
        result.get(timeout=max(1.0, DEADLINE - time.monotonic()), propagate=False)
        ran = ran_on(workers, f"{result.id}] ")  # the worker logs after it stores the result: wait for the line
        queue = route_info(topology, task)["queue"]
        print(
            f"{task.removeprefix('agentic_clinical_assistant.workers.tasks.'):<50} {queue:<11} {ran:<12} {result.state}"
        )
        failed += result.state != "SUCCESS"
    print()
    if failed:
        sys.exit(f"{failed} task(s) did not succeed; logs in {work}")


if __name__ == "__main__":
    main()
