"""The shipped topology on a real redis-server: every seed task runs on its own pool's worker and no other."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from celery import Celery

from celery_topology import configure, load

from support import APP, EXAMPLES, ROOT, TASKS, Process, RedisServer, start_worker, worker_env

POOLS = {"agent": "agent", "ingestion": "ingestion", "evaluation": "evaluation"}  # task module: pool expected to run it
SEEDED = runpy.run_path(str(EXAMPLES / "agentic_clinical_assistant" / "seed.py"))["SEED"]  # what `make demo` sends
SEED = {task: (args, POOLS[task.split(".")[-2]]) for task, args in SEEDED.items()}  # task: (args, pool)


def test_every_seed_task_runs_on_its_pool_only(redis_server: RedisServer, tmp_path: Path) -> None:
    redis_server.client().flushall()
    shipped = ROOT / "topology.yaml"
    topology = load(shipped, environ={"CELERY_BROKER_URL": redis_server.url, "CELERY_RESULT_BACKEND": redis_server.url})
    env = worker_env(redis_server.url, shipped)
    workers: dict[str, Process] = {}
    try:
        for name, pool in topology.pools.items():
            hostname = topology.pool_hostname(name).replace("%h", "test")
            workers[name] = start_worker(APP, pool.queues, hostname, env, tmp_path / f"{name}.log")
        producer = Celery("producer")
        configure(producer, topology)
        results = {task: producer.send_task(task, args=args) for task, (args, _) in SEED.items()}
        values = {task: result.get(timeout=120) for task, result in results.items()}
    finally:
        for worker in workers.values():
            worker.stop()
    assert values[f"{TASKS}.agent.run_agent_workflow"]["verification"] == {"verified": True, "unsupported": []}
    assert values[f"{TASKS}.agent.run_intake_agent"]["medications"] == ["aspirin"]
    assert values[f"{TASKS}.evaluation.run_nightly_evaluation"]["recall_at_2"] == 1.0
    assert values[f"{TASKS}.ingestion.ingest_documents"]["memo"]["chunks"] > 1
    for task, (_, pool) in SEED.items():
        ran_on = [
            name for name, w in workers.items() if re.search(rf"{re.escape(results[task].id)}\] succeeded", w.output())
        ]
        assert ran_on == [pool], f"{task} ran on {ran_on}, expected [{pool!r}]"
