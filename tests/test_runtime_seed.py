"""The shipped topology on a real redis-server: every seed task runs on its own pool's worker and no other."""

from __future__ import annotations

import re
from pathlib import Path

from celery import Celery

from celery_topology import configure, load

from support import ROOT, Process, RedisServer, start_worker, worker_env

APP = "agentic_clinical_assistant.workers.celery_app"
TASKS = "agentic_clinical_assistant.workers.tasks"
NOTE = "58 year old, chest pain and sweating, BP 150/90, HR 104, on aspirin"
PASSAGES = [{"id": "chest-pain", "text": "Chest pain: obtain an ECG within 10 minutes and troponin"}]
SUMMARY = {"text": "Patient.\nobtain an ECG within 10 minutes [chest-pain]", "citations": ["chest-pain"]}
DOCS = [{"id": "memo", "text": "Sepsis bundle: blood cultures and antibiotics within one hour. " * 12}]
SEED = {  # task: (args, pool expected to run it)
    f"{TASKS}.agent.run_agent_workflow": ((NOTE,), "agent"),
    f"{TASKS}.agent.run_intake_agent": ((NOTE,), "agent"),
    f"{TASKS}.agent.run_retrieval_agent": (("chest pain sweating",), "agent"),
    f"{TASKS}.agent.run_synthesis_agent": (({"age": 58, "symptoms": ["chest pain"]}, PASSAGES), "agent"),
    f"{TASKS}.agent.run_verifier_agent": ((SUMMARY, PASSAGES), "agent"),
    f"{TASKS}.ingestion.ingest_documents": ((DOCS,), "ingestion"),
    f"{TASKS}.ingestion.reindex_documents": ((DOCS,), "ingestion"),
    f"{TASKS}.evaluation.run_evaluation": ((), "evaluation"),
    f"{TASKS}.evaluation.run_nightly_evaluation": ((), "evaluation"),
}


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
