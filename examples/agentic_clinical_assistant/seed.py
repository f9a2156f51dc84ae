"""One call of each of the assistant's tasks, with arguments that exercise it: what `make demo` sends."""

from __future__ import annotations

from typing import Any

TASKS = "agentic_clinical_assistant.workers.tasks"
NOTE = "58 year old, chest pain and sweating, BP 150/90, HR 104, on aspirin"
PASSAGES = [{"id": "chest-pain", "text": "Chest pain: obtain an ECG within 10 minutes and troponin"}]
SUMMARY = {"text": "Patient.\nobtain an ECG within 10 minutes [chest-pain]", "citations": ["chest-pain"]}
DOCS = [{"id": "memo", "text": "Sepsis bundle: blood cultures and antibiotics within one hour. " * 12}]

SEED: dict[str, tuple[Any, ...]] = {  # task name: its arguments
    f"{TASKS}.agent.run_agent_workflow": (NOTE,),
    f"{TASKS}.agent.run_intake_agent": (NOTE,),
    f"{TASKS}.agent.run_retrieval_agent": ("chest pain sweating",),
    f"{TASKS}.agent.run_synthesis_agent": ({"age": 58, "symptoms": ["chest pain"]}, PASSAGES),
    f"{TASKS}.agent.run_verifier_agent": (SUMMARY, PASSAGES),
    f"{TASKS}.ingestion.ingest_documents": (DOCS,),
    f"{TASKS}.ingestion.reindex_documents": (DOCS,),
    f"{TASKS}.evaluation.run_evaluation": (),
    f"{TASKS}.evaluation.run_nightly_evaluation": (),
}
