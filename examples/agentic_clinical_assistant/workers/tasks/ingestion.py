"""Document ingestion: chunk and index documents for retrieval."""

from __future__ import annotations

from typing import Any

from agentic_clinical_assistant import clinical
from agentic_clinical_assistant.workers.celery_app import app


@app.task
def ingest_documents(documents: list[dict[str, str]]) -> dict[str, Any]:
    """Chunk each `{id, text}` document; report the chunks, distinct terms and a content digest per document."""
    report = {}
    for doc in documents:
        passages = clinical.chunk(doc["id"], doc["text"])
        report[doc["id"]] = {
            "chunks": len(passages),
            "terms": len({t for p in passages for t in clinical.tokens(p["text"])}),
            "digest": clinical.digest(doc["text"]),
        }
    return report


@app.task
def reindex_documents(documents: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Rebuild the BM25 index over the guidelines plus `documents`; report its size."""
    passages = list(clinical.GUIDELINES)
    for doc in documents or []:
        passages += clinical.chunk(doc["id"], doc["text"])
    index = clinical.build_index(passages)
    return {"passages": len(index["counts"]), "terms": len(index["df"]), "average_length": round(index["average"], 2)}
