"""Evaluation of the workflow against labelled cases."""

from __future__ import annotations

from typing import Any

from agentic_clinical_assistant import clinical
from agentic_clinical_assistant.workers.celery_app import app


@app.task
def run_evaluation(cases: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Retrieval recall and verification rate over `cases` (`{note, expect}`), default the built-in set."""
    return clinical.evaluate(cases or clinical.EVALUATION_CASES)


@app.task
def run_nightly_evaluation() -> dict[str, Any]:
    """The scheduled run over the built-in cases."""
    return clinical.evaluate(clinical.EVALUATION_CASES)
