"""The agents: intake, retrieval, synthesis, verification, and the workflow that runs them in order."""

from __future__ import annotations

from typing import Any

from agentic_clinical_assistant import clinical
from agentic_clinical_assistant.workers.celery_app import app


@app.task
def run_intake_agent(note: str) -> dict[str, Any]:
    return clinical.intake(note)


@app.task
def run_retrieval_agent(query: str, k: int = 3) -> list[dict[str, Any]]:
    return clinical.search(clinical.GUIDELINE_INDEX, query, k)


@app.task
def run_synthesis_agent(facts: dict[str, Any], passages: list[dict[str, Any]]) -> dict[str, Any]:
    return clinical.synthesize(facts, passages)


@app.task
def run_verifier_agent(summary: dict[str, Any], passages: list[dict[str, Any]]) -> dict[str, Any]:
    return clinical.verify(summary, passages)


@app.task
def run_agent_workflow(note: str) -> dict[str, Any]:
    """The four agents in one task (in process: a task never waits on another task's result)."""
    return clinical.workflow(note)
