"""A tests-only task module for the live render tests: the example app plus one slow task.

The rendered worker command runs `celery -A render_tasks:app`; importing this module imports (and so
configures) the clinical assistant's app and registers `render_tests.slow` on it. The task name
matches no route, so it lands on the default queue.
"""

from __future__ import annotations

import mmap
import time
from pathlib import Path

from agentic_clinical_assistant.workers.celery_app import app

__all__ = ["app", "slow", "write_execute"]


@app.task(name="render_tests.slow")
def slow(seconds: float, marker: str) -> str:
    """Write `<marker>.started`, sleep, then write `<marker>.finished`: proof of a task that ran to its end."""
    Path(f"{marker}.started").write_text("")
    time.sleep(seconds)
    Path(f"{marker}.finished").write_text("")
    return marker


@app.task(name="render_tests.write_execute")
def write_execute(marker: str) -> None:
    """Write `<marker>.wx-allowed` or `<marker>.wx-refused`: whether this pool child may map W+X memory."""
    try:
        mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()
        Path(f"{marker}.wx-allowed").write_text("")
    except OSError:
        Path(f"{marker}.wx-refused").write_text("")
