#!/usr/bin/env python3
"""Start-up time of `celery-topology validate` (shipped topology) against `celery --help`.

    .venv/bin/python benchmarks/startup.py [REPETITIONS]

Both are the console scripts of this venv, run as fresh processes from the repository root,
interleaved, REPETITIONS times each (default 9); each figure is the median wall time. Prints
the medians and the ratios: below 1 means `validate` is ready sooner than Celery can print help.

Also timed, as the floor of any strict validation with these libraries: a Python that imports click
and PyYAML and validates one dict with a one-field pydantic model (pydantic's first model build
imports most of it). The untimed first run writes byte-code (even under PYTHONDONTWRITEBYTECODE),
as `pip install` does for an installed package, so no command pays for compiling.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COMMANDS = {
    "validate": [str(BIN / "celery-topology"), "--file", str(ROOT / "topology.yaml"), "validate"],
    "celery --help": [str(BIN / "celery"), "--help"],
    "floor": [
        sys.executable,
        "-c",
        "import click, yaml\nfrom pydantic import BaseModel\nclass M(BaseModel):\n    a: int\nM.model_validate({'a': 1})",
    ],
}


def seconds(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, timeout=120, env=env)
    return time.perf_counter() - start


def main(repetitions: int) -> None:
    writing = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv in COMMANDS.values():  # warm the file cache and byte-code once, untimed
        seconds(argv, writing)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repetitions):
        for name, argv in COMMANDS.items():
            times[name].append(seconds(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name}: median {median * 1000:.0f} ms over {repetitions} runs")
    for name in ("validate", "floor"):
        print(f"{name}/celery --help = {medians[name] / medians['celery --help']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
