"""A draft topology as YAML text: block style for the structure, flow style for small values, notes as comments."""

from __future__ import annotations

from typing import Any

import yaml

from .draft import Draft, Path

HEADER = """\
# yaml-language-server: $schema=./topology.schema.json
# Written by `celery-topology import {app}`. Review the comments: each marks a decision for a person.
"""
BLOCK_DEPTH = 3  # sections, their entries, and beat entries are blocks; deeper values are written inline


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _lines(data: dict[str, Any], notes: dict[Path, list[str]], path: Path) -> list[str]:
    pad = "  " * len(path)
    lines = []
    for key, value in data.items():
        here = (*path, str(key))
        lines += [f"{pad}# {text}" for text in notes.get(here, [])]
        if isinstance(value, dict) and value and len(path) < BLOCK_DEPTH - (0 if path[:1] == ("beat",) else 1):
            lines.append(f"{pad}{_flow(key)}:")
            lines += _lines(value, notes, here)
        else:
            lines.append(f"{pad}{_flow(key)}: {_flow(value)}")
    return lines


def emit(draft: Draft) -> str:
    """The whole file: header, what could not be converted, then the topology."""
    lines = HEADER.format(app=draft.data["app"]).splitlines()
    if draft.unconverted:
        lines.append("# NOT CONVERTED (decide by hand):")
        lines += [f"#   - {text}" for text in draft.unconverted]
    sections = list(draft.data)
    for section in sections:
        lines.append("")
        lines += _lines({section: draft.data[section]}, draft.notes, ())
    return "\n".join(lines) + "\n"
