"""A small real cluster for the fault tests: workers started from the rendered systemd units' command lines.

The topology has three pools (prefork, threads, solo) and a short visibility timeout, so redelivery of
a message abandoned by a killed worker happens within a test. Work is proven by the ledger that
`fault_app` writes outside the broker; `Outcome` compares it with what was sent. Every scenario adds
its outcome to `REPORT`, which the suite prints at the end of the run (see conftest.py).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from celery import Celery

from celery_topology import Topology, configure, load
from celery_topology.render import render
from celery_topology.topology.routing import Router

from support import BIN, ROOT, Process, RedisServer, run_cli, systemd_words, wait_for, worker_env

HERE = Path(__file__).resolve().parent
VISIBILITY_TIMEOUT = 6  # seconds: a message unacked this long is redelivered when a worker restores it
# pytest-timeout of every fault test (each module's `pytestmark`). The harness's own waits give up
# REPORT_MARGIN seconds before it, so a scenario that is too slow under load still reports what it
# lost instead of being killed by pytest mid-wait.
FAULT_TIMEOUT = 900
REPORT_MARGIN = 90
REPORT: list[dict[str, Any]] = []


def topology_document(work: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "fault_app:app",
        "broker": {"url": "${CELERY_BROKER_URL}", "visibility_timeout": VISIBILITY_TIMEOUT},
        "defaults": {"queue": "default", "retry": {"max_retries": 2, "delay": 1, "errors": ["ConnectionError"]}},
        "queues": {"default": {}, "alpha": {}, "beta": {}, "gamma": {}},
        "routes": {
            "faults.alpha.*": "alpha",
            "faults.beta.*": {"queue": "beta", "priority": 8},
            "faults.gamma.*": "gamma",
        },
        "pools": {
            "main": {"queues": ["default", "alpha"], "concurrency": 2, "pool": "prefork"},
            "threads": {"queues": ["beta"], "concurrency": 2, "pool": "threads"},
            "solo": {"queues": ["gamma"], "pool": "solo"},
        },
        "deploy": {
            "working_directory": str(work),
            "celery": str(BIN / "celery"),
            "environment_file": str(work / "celery.env"),
        },
    }


@dataclass
class Unit:
    """What systemd would run for one pool: ExecStart's words, WorkingDirectory and Environment."""

    argv: list[str]
    cwd: Path
    environment: dict[str, str]


def units(topology: Topology) -> dict[str, Unit]:
    """Pool name -> its rendered systemd unit, read back the way systemd reads it."""
    result = {}
    for name in topology.pools:
        (unit,) = [f.text for f in render(topology, "systemd", "topology.yaml") if f.path.endswith(f"-{name}.service")]
        key, value = systemd_words(unit, "Environment")[0].split("=", 1)
        cwd = Path(systemd_words(unit, "WorkingDirectory")[0])
        result[name] = Unit(systemd_words(unit, "ExecStart"), cwd, {key: value})
    return result


def environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (no quoting needed here)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


class Cluster:
    """The fault topology on a private redis-server: start, kill and restart pools; send; read the ledger."""

    def __init__(
        self,
        work: Path,
        redis: RedisServer,
        document: dict[str, Any] | None = None,
        topology: Topology | None = None,
        **env: str,
    ) -> None:
        """The topology is `document` (default: the fault topology) loaded and validated, unless given built."""
        self.work, self.redis = work, redis
        self.path = self.write_topology(work, document or topology_document(work), redis.url)
        self.ledger_path = work / "ledger.jsonl"
        self.topology = topology or load(self.path, environ={"CELERY_BROKER_URL": redis.url})
        self.units = units(self.topology)
        base = worker_env(redis.url, self.path, PYTHONPATH=str(HERE), FAULT_LEDGER=str(self.ledger_path), **env)
        self.env = {**base, **environment_file(work / "celery.env")}
        self.workers: dict[str, Process] = {}
        self.starts = collections.Counter[str]()
        self.producer = Celery("fault-producer", set_as_current=False)
        configure(self.producer, self.topology)
        self.deadline = time.monotonic() + FAULT_TIMEOUT - REPORT_MARGIN

    def budget(self, timeout: float) -> float:
        """`timeout`, cut so that the wait ends before the test's deadline (at least 1 s)."""
        return max(1.0, min(timeout, self.deadline - time.monotonic()))

    @staticmethod
    def write_topology(work: Path, document: dict[str, Any], broker_url: str) -> Path:
        """topology.yaml, and the unit's EnvironmentFile holding the broker URL."""
        (work / "celery.env").write_text(f"CELERY_BROKER_URL={broker_url}\n")
        path = work / "topology.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def start(self, pool: str, wait: bool = True, replica: int = 1) -> Process:
        """Run `pool`'s unit (`replica` > 1: one more process of the same unit, as on another machine)."""
        unit = self.units[pool]
        key = pool if replica == 1 else f"{pool}-r{replica}"
        self.starts[key] += 1
        log = self.work / f"{key}-{self.starts[key]}.log"
        worker = Process(unit.argv, log, env={**self.env, **unit.environment}, cwd=unit.cwd)
        self.workers[key] = worker
        if wait:
            worker.wait_for_output(" ready.", self.budget(120))
        return worker

    def start_all(self) -> None:
        for pool in self.topology.pools:
            self.start(pool)

    def stop(self, pool: str, sig: int = signal.SIGTERM, timeout: float = 60) -> int | None:
        return self.workers.pop(pool).stop(timeout=timeout, sig=sig)

    def kill(self, pool: str) -> None:
        """SIGKILL the whole worker: main process and pool children at once."""
        worker = self.workers.pop(pool)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.stop()

    def stop_all(self) -> None:
        for pool in list(self.workers):
            self.stop(pool)

    def send(self, task: str, count: int, seconds: float, start: int = 0) -> list[str]:
        """`count` tasks named `task`, each sleeping `seconds`; their ids (which the ledger records)."""
        ids = [f"{task}-{i}" for i in range(start, start + count)]
        for task_id in ids:
            self.producer.send_task(task, args=[seconds], task_id=task_id)
        return ids

    def events(self) -> list[dict[str, Any]]:
        if not self.ledger_path.exists():
            return []
        return [json.loads(line) for line in self.ledger_path.read_text().splitlines()]

    def running(self) -> dict[str, dict[str, Any]]:
        """Task id -> the ledger's start event of each run that has not finished."""
        runs: dict[str, dict[str, Any]] = {}
        for event in self.events():
            if event["event"] == "start":
                runs[event["id"]] = event
            else:
                runs.pop(event["id"], None)
        return runs

    def busy_children(self, pool: str) -> list[int]:
        """Pids of `pool`'s current pool children that are running a task now (per the ledger)."""
        parent = self.workers[pool].pid
        return [run["pid"] for run in self.running().values() if parent_pid(run["pid"]) == parent]

    def outcome(self, scenario: str, sent: list[str]) -> Outcome:
        return Outcome(scenario, sent, self.events())

    def residue(self) -> dict[str, int]:
        """Every broker key holding messages (queues, priority sub-queues, unacked; not exchange bindings), with its size."""
        client = self.redis.client()
        sizes = {"list": client.llen, "hash": client.hlen, "zset": client.zcard}
        found = {}
        for key in client.scan_iter():
            kind = client.type(key).decode()
            if kind in sizes and not key.startswith(b"_kombu.binding"):
                found[key.decode(errors="replace")] = sizes[kind](key)
        return found

    def settle(self, scenario: str, sent: list[str], timeout: float = 120) -> Outcome:
        """Wait until every sent task is done and the broker is empty; record and return the outcome.

        The outcome is recorded when the wait gives up too, and the failure says what was lost.
        """
        try:
            self.drain(scenario, sent, timeout)
        except AssertionError as exc:
            outcome = self.record(scenario, sent)
            raise AssertionError(f"{exc}; lost {len(outcome.lost)} of {outcome.sent}: {outcome.lost[:20]}") from None
        return self.record(scenario, sent)

    def drain(self, scenario: str, sent: list[str], timeout: float = 120) -> None:
        """Wait until every sent task is done and the broker holds no message (AssertionError when it gives up)."""
        try:
            wait_for(
                lambda: not self.outcome(scenario, sent).lost, self.budget(timeout), f"{scenario}: every task done"
            )
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None
        try:
            wait_for(lambda: not self.residue(), self.budget(30), f"{scenario}: an empty broker")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; left: {self.residue()}") from None

    def record(self, scenario: str, sent: list[str]) -> Outcome:
        outcome = self.outcome(scenario, sent)
        REPORT.append(outcome.row(residue=sum(self.residue().values())))
        return outcome

    def doctor(self) -> set[str]:
        """The codes of `celery-topology doctor`'s findings about this broker."""
        result = run_cli("--file", self.path, "doctor", "--format", "json", env=self.env)
        return {finding["code"] for finding in json.loads(result.stdout)["findings"]}

    def wrong_pool_runs(self) -> list[dict[str, Any]]:
        """Runs by a worker whose pool does not consume the queue the task's route names."""
        router = Router(self.topology)
        hostnames = {self.topology.pool_hostname(p).split("@")[0]: p for p in self.topology.pools}
        wrong = []
        for event in self.events():
            pool = self.topology.pools[hostnames[event["host"].split("@")[0]]]
            if router.resolve(event["task"]).queue not in pool.queues:
                wrong.append(event)
        return wrong


class Outcome:
    """Sent ids against the ledger: done, lost, duplicated (finished more than once), interrupted runs."""

    def __init__(self, scenario: str, sent: list[str], events: list[dict[str, Any]]) -> None:
        self.scenario = scenario
        finished = collections.Counter(e["id"] for e in events if e["event"] == "done")
        started = collections.Counter(e["id"] for e in events if e["event"] == "start")
        self.sent = len(sent)
        self.done = sum(1 for task_id in sent if finished[task_id])
        self.lost = [task_id for task_id in sent if not finished[task_id]]
        self.duplicated = [task_id for task_id in sent if finished[task_id] > 1]
        self.interrupted = sum(started[t] - finished[t] for t in sent if started[t] > finished[t])

    def row(self, **extra: int) -> dict[str, Any]:
        counts = {"sent": self.sent, "done": self.done, "lost": len(self.lost), "duplicated": len(self.duplicated)}
        return {"scenario": self.scenario, **counts, "interrupted": self.interrupted, **extra}


def report_lines(rows: list[dict[str, Any]]) -> list[str]:
    columns = ["scenario", "sent", "done", "lost", "duplicated", "interrupted", "residue"]
    table = [columns] + [[str(row.get(c, "-")) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table]


__all__ = ["FAULT_TIMEOUT", "REPORT", "ROOT", "Cluster", "Outcome", "report_lines", "topology_document"]
