"""`make demo`, as a newcomer runs it: the shipped topology for real, then nothing left running."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys

from support import EXAMPLES, ROOT, wait_for

SEED = runpy.run_path(str(EXAMPLES / "agentic_clinical_assistant" / "seed.py"))["SEED"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_demo_runs_every_seed_task_on_its_pool_and_stops_what_it_started() -> None:
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PYTEST_"))}
    done = subprocess.run(
        [make, "-C", str(ROOT), "demo", f"PYTHON={sys.executable}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = dict(re.findall(r"^(\S+\.\S+) +\S+ +(\S+) +SUCCESS$", done.stdout, re.M))
    expected = {task.removeprefix("agentic_clinical_assistant.workers.tasks."): task.split(".")[-2] for task in SEED}
    assert rows == expected  # each seed task, run by its own pool (agent.* on agent, ...)
    started = {int(pid) for pid in re.findall(r"^started .* \(pid (\d+)\)$", done.stdout, re.M)}
    stopped = {int(pid) for pid in re.findall(r"^stopped .* \(pid (\d+)\)$", done.stdout, re.M)}
    assert len(started) == 5 and stopped == started  # redis-server and one worker per pool
    wait_for(lambda: not any(alive(pid) for pid in started), 30, "the demo's processes to be gone")
