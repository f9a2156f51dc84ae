#!/usr/bin/env python3
"""Start-up time of `celery-topology validate` (shipped topology) against `celery --help`.

    .venv/bin/python benchmarks/startup.py [REPETITIONS]

Both are the console scripts of this venv, run as fresh processes from the repository root,
interleaved, REPETITIONS times each (default 9); each figure is the median wall time. Prints
both medians and the ratio: below 1 means `validate` is ready sooner than Celery can print help.
"""

from __future__ import annotations

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
}


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT, timeout=120)
    return time.perf_counter() - start


def main(repetitions: int) -> None:
    for argv in COMMANDS.values():  # warm the file cache and byte-code once, untimed
        seconds(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repetitions):
        for name, argv in COMMANDS.items():
            times[name].append(seconds(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name}: median {median * 1000:.0f} ms over {repetitions} runs")
    print(f"validate/celery --help = {medians['validate'] / medians['celery --help']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
