"""End to end: a real Prometheus server scrapes `celery-topology serve` and evaluates the rendered rules.

A pool's worker is stopped: the pool alert fires. Tasks are left waiting past max_wait: the wait
alert fires. The worker comes back, drains the queue: both clear. The topology uses second-long
`for:` and scrape intervals so that this takes seconds, not minutes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery

from celery_topology import configure, load
from celery_topology.topology.digest import checksum

from support import (
    APP,
    BIN,
    EXAMPLE_HEAD,
    TASKS,
    Process,
    RedisServer,
    free_port,
    run_cli,
    start_worker,
    wait_for,
    worker_env,
)

TOPOLOGY = (
    EXAMPLE_HEAD
    + f"""\
defaults: {{alert_for: 2s}}
queues: {{default: {{}}, agent: {{max_wait: 3s}}}}
routes: {{{TASKS}.agent.*: {{queue: agent, priority: 8}}}}
pools:
  default: {{queues: [default], hostname: default@e2e}}
  agent: {{queues: [agent], hostname: agent-worker@e2e}}
"""
)
PROMETHEUS = """\
global: {{scrape_interval: 3s, evaluation_interval: 1s, scrape_timeout: 3s}}
rule_files: [{rules}]
scrape_configs:
  - job_name: celery-topology
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
"""


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.processes: list[Process] = []
        self.redis = RedisServer(tmp)
        self.topology = tmp / "topology.yaml"
        self.topology.write_text(TOPOLOGY)
        self.env = worker_env(self.redis.url, self.topology)
        self.api = ""

    def start(self, argv: list[str], log: str, ready: str) -> Process:
        process = Process(argv, self.tmp / log, env=self.env, cwd=self.tmp)
        self.processes.append(process)
        process.wait_for_output(ready, 90)
        return process

    def worker(self, pool: str) -> Process:
        worker = start_worker(
            APP, [pool], f"{'agent-worker' if pool == 'agent' else pool}@e2e", self.env, self.tmp / f"{pool}.log"
        )
        self.processes.append(worker)
        return worker

    def alerts(self) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.api}/api/v1/alerts", timeout=30).json()
        return [a for a in body["data"]["alerts"] if a["state"] == "firing"]

    def firing(self, name: str, **labels: str) -> bool:
        return any(a["labels"]["alertname"] == name and labels.items() <= a["labels"].items() for a in self.alerts())

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = httpx.get(f"{self.api}/api/v1/query", params={"query": expr}, timeout=30).json()
        return list(body["data"]["result"])

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.redis.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    made = Stack(tmp_path)
    yield made
    made.stop()


@pytest.mark.timeout(900)
def test_prometheus_fires_and_clears_the_rendered_alerts(stack: Stack) -> None:
    prometheus = shutil.which("prometheus")
    assert prometheus is not None, "prometheus is not installed (Debian package prometheus; .ci/run installs it)"
    rendered = run_cli("--file", "topology.yaml", "render", "prometheus", "-o", "rules", cwd=stack.tmp, env=stack.env)
    assert rendered.returncode == 0, rendered.stderr
    stack.worker("default")
    agent = stack.worker("agent")
    port = free_port()
    serve = [str(BIN / "celery-topology"), "--file", "topology.yaml", "serve", "--port", str(port)]
    stack.start([*serve, "--timeout", "0.5", "--cache", "1"], "serve.log", "Uvicorn running on")
    config = stack.tmp / "prometheus.yml"
    config.write_text(PROMETHEUS.format(rules=stack.tmp / "rules" / "agentic-clinical-assistant.rules.yml", port=port))
    web = free_port()
    argv = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={stack.tmp / 'tsdb'}"]
    argv += [f"--web.listen-address=127.0.0.1:{web}", "--log.level=warn"]
    stack.processes.append(Process(argv, stack.tmp / "prometheus.log", cwd=stack.tmp))
    stack.api = f"http://127.0.0.1:{web}"
    wait_for(lambda: _ready(stack.api), 90, "Prometheus to be ready")
    wait_for(
        lambda: stack.query('celery_topology_pool_workers{pool="agent"} == 1'), 120, "a scrape seeing the agent pool"
    )
    assert stack.query("celery_topology_broker_up == 1")
    topology = load(stack.topology, environ=stack.env)
    assert stack.query(f'celery_topology_info{{checksum="{checksum(topology)}"}} == 1')  # the rules' own checksum
    groups = httpx.get(f"{stack.api}/api/v1/rules", timeout=30).json()["data"]["groups"]
    assert [len(g["rules"]) for g in groups] == [7]  # the rendered rules are loaded
    assert stack.alerts() == []

    producer = Celery("e2e-producer", set_as_current=False)
    configure(producer, load(stack.topology, environ=stack.env))
    producer.send_task(f"{TASKS}.ingestion.reindex_documents", countdown=600)  # held by the worker until its ETA
    wait_for(
        lambda: stack.query('celery_topology_tasks_scheduled{pool="default"} == 1'), 120, "the held task in a scrape"
    )

    agent.stop()
    wait_for(lambda: stack.firing("CeleryPoolBelowMinWorkers", pool="agent"), 120, "the pool alert", interval=0.5)
    assert not stack.firing("CeleryPoolBelowMinWorkers", pool="default")

    for _ in range(3):
        producer.send_task(f"{TASKS}.agent.run_intake_agent", args=("note",))
    wait_for(lambda: stack.firing("CeleryQueueWaitTooLong", queue="agent"), 120, "the wait alert", interval=0.5)
    assert stack.query('celery_topology_queue_depth{queue="agent"} == 3')

    stack.worker("agent")  # fixed: the pool is back and drains its queue
    wait_for(lambda: stack.alerts() == [], 120, "both alerts to clear", interval=0.5)
    assert stack.query('celery_topology_queue_oldest_age_seconds{queue="agent"} == 0')


def _ready(api: str) -> bool:
    try:
        return httpx.get(f"{api}/-/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
