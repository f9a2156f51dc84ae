"""The assistant's work, free of Celery: parse a note, retrieve guidance, draft a summary, verify it.

Small on purpose, but real: BM25 retrieval over chunked passages, rule-based intake,
extractive synthesis with citations and a verifier that checks every citation.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from typing import Any

WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "was",
        "were",
    ]
)
GUIDELINES = [
    {
        "id": "chest-pain",
        "text": "Chest pain with sweating or shortness of breath: obtain an ECG within 10 minutes and troponin; consider acute coronary syndrome.",
    },
    {
        "id": "sepsis",
        "text": "Fever with low blood pressure or fast heart rate suggests sepsis: take blood cultures, give antibiotics within one hour, give fluids.",
    },
    {
        "id": "stroke",
        "text": "Sudden facial droop, arm weakness or speech trouble: suspect stroke, note the time of onset, urgent brain imaging.",
    },
    {
        "id": "asthma",
        "text": "Wheeze and shortness of breath in asthma: give inhaled bronchodilator, check oxygen saturation, steroids if severe.",
    },
    {
        "id": "diabetes",
        "text": "High blood glucose with thirst and frequent urination: check ketones, review insulin, assess for diabetic ketoacidosis.",
    },
    {"id": "warfarin", "text": "Patients on warfarin with bleeding: check INR, hold warfarin, consider vitamin K."},
]
SYMPTOMS = (
    "chest pain",
    "sweating",
    "shortness of breath",
    "fever",
    "wheeze",
    "thirst",
    "facial droop",
    "arm weakness",
    "bleeding",
    "frequent urination",
)
MEDICATIONS = ("warfarin", "insulin", "metformin", "aspirin", "salbutamol")


def tokens(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


def chunk(doc_id: str, text: str, size: int = 40, overlap: int = 8) -> list[dict[str, Any]]:
    """Overlapping word windows of `text`, each with a stable id."""
    words = text.split()
    step = max(1, size - overlap)
    starts = range(0, max(1, len(words) - overlap), step)
    return [{"id": f"{doc_id}#{i}", "text": " ".join(words[start : start + size])} for i, start in enumerate(starts)]


def build_index(passages: list[dict[str, Any]]) -> dict[str, Any]:
    """A BM25 index: term frequencies per passage, document frequencies, average length."""
    counts = {p["id"]: Counter(tokens(p["text"])) for p in passages}
    df: Counter[str] = Counter(term for c in counts.values() for term in c)
    average = sum(sum(c.values()) for c in counts.values()) / max(1, len(counts))
    return {"counts": counts, "df": df, "average": average, "texts": {p["id"]: p["text"] for p in passages}}


def search(index: dict[str, Any], query: str, k: int = 3) -> list[dict[str, Any]]:
    """The `k` best passages for `query` by BM25 (k1=1.2, b=0.75), best first, zero scores dropped."""
    n = len(index["counts"])
    scores = {}
    for doc_id, counts in index["counts"].items():
        length = sum(counts.values())
        score = 0.0
        for term in set(tokens(query)):
            tf = counts.get(term, 0)
            if tf:
                idf = math.log(1 + (n - index["df"][term] + 0.5) / (index["df"][term] + 0.5))
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / index["average"]))
        if score > 0:
            scores[doc_id] = score
    best = sorted(scores, key=lambda d: (-scores[d], d))[:k]
    return [{"id": d, "text": index["texts"][d], "score": round(scores[d], 4)} for d in best]


GUIDELINE_INDEX = build_index(GUIDELINES)


def intake(note: str) -> dict[str, Any]:
    """Structured facts from a free-text note: age, symptoms, medications, vital signs."""
    text = note.lower()
    age = re.search(r"(\d{1,3})[- ]?(?:year|yo|y/o)", text)
    bp = re.search(r"bp (\d{2,3})/(\d{2,3})", text)
    hr = re.search(r"(?:hr|heart rate) (\d{2,3})", text)
    return {
        "age": int(age.group(1)) if age else None,
        "symptoms": [s for s in SYMPTOMS if s in text],
        "medications": [m for m in MEDICATIONS if m in text],
        "blood_pressure": [int(bp.group(1)), int(bp.group(2))] if bp else None,
        "heart_rate": int(hr.group(1)) if hr else None,
    }


def query_for(facts: dict[str, Any]) -> str:
    return " ".join(facts["symptoms"] + facts["medications"]) or "general assessment"


def synthesize(facts: dict[str, Any], passages: list[dict[str, Any]]) -> dict[str, Any]:
    """A summary whose every recommendation cites the passage it comes from."""
    who = f"{facts['age']}-year-old patient" if facts["age"] else "Patient"
    findings = ", ".join(facts["symptoms"]) or "no listed symptoms"
    lines = [f"{who} with {findings}."]
    lines += [f"{p['text'].split(':')[-1].strip()} [{p['id']}]" for p in passages]
    return {"text": "\n".join(lines), "citations": [p["id"] for p in passages]}


def verify(summary: dict[str, Any], passages: list[dict[str, Any]]) -> dict[str, Any]:
    """Every cited line must cite a retrieved passage and share its words."""
    known = {p["id"]: set(tokens(p["text"])) for p in passages}
    unsupported = []
    for line in summary["text"].splitlines()[1:]:
        cited = re.search(r"\[([^\]]+)\]$", line)
        if not cited or cited.group(1) not in known or not set(tokens(line)) & known[cited.group(1)]:
            unsupported.append(line)
    return {"verified": not unsupported, "unsupported": unsupported}


def workflow(note: str, k: int = 2) -> dict[str, Any]:
    facts = intake(note)
    passages = search(GUIDELINE_INDEX, query_for(facts), k)
    summary = synthesize(facts, passages)
    return {"intake": facts, "passages": passages, "summary": summary, "verification": verify(summary, passages)}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


EVALUATION_CASES = [
    {"note": "58 year old, chest pain and sweating, BP 150/90, HR 104", "expect": "chest-pain"},
    {"note": "Fever 39.2, BP 85/50, heart rate 125, confused", "expect": "sepsis"},
    {"note": "72yo sudden facial droop and arm weakness since 14:10", "expect": "stroke"},
    {"note": "Known asthma, wheeze and shortness of breath, uses salbutamol", "expect": "asthma"},
    {"note": "On warfarin, nose bleeding for two hours", "expect": "warfarin"},
    {"note": "Thirst and frequent urination, on insulin", "expect": "diabetes"},
]


def evaluate(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Top-2 retrieval recall and verification rate of the workflow over labelled cases."""
    results = [workflow(case["note"]) for case in cases]
    hits = sum(case["expect"] in [p["id"] for p in r["passages"]] for case, r in zip(cases, results, strict=True))
    verified = sum(r["verification"]["verified"] for r in results)
    total = max(1, len(cases))
    return {"cases": len(cases), "recall_at_2": round(hits / total, 3), "verified_rate": round(verified / total, 3)}
