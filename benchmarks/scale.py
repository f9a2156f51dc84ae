#!/usr/bin/env python3
"""How validate, render, show and route grow with the size of the topology, against `celery --help`.

    .venv/bin/python benchmarks/scale.py [--sizes 100,300,1000,3000] [--repetitions 3]
    .venv/bin/python benchmarks/scale.py --write N FILE [--problems]   # just write a generated file

Generated topologies of size N (the shape of issue 15): N queues, N pools consuming 1-3 queues
each, 10N routes (half exact task names, half globs that never shadow each other, a few of them
with time limits), N beat entries, pools on 10 hosts, some with their own time limits, a quarter
scaled by KEDA on Kubernetes.
`--problems` adds deliberate mistakes every check reports (the golden file of tests/test_scale.py).

Every command runs as a fresh process of this venv's console script, interleaved with
`celery --help` in the same round; each figure is the median over the repetitions. Printed per
command and N: seconds, the ratio to `celery --help`, and the growth exponent from the previous N
(log(t2/t1) / log(N2/N1): 1 is linear, 2 quadratic). Then the peak memory (max RSS) of each
command at N=1,000.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HOSTS = 10


def _routes(n: int) -> list[str]:
    lines = []
    for i in range(5 * n):
        service, module = i % n, i // n  # 5 modules per service: their globs never shadow each other
        exact = f"  svc{service:04d}.tasks.task{i:05d}: q{(i * 7) % n:04d}"
        if i % 10 == 3:
            exact = f"  svc{service:04d}.tasks.task{i:05d}: {{queue: q{(i * 7) % n:04d}, priority: {i % 10}}}"
        lines.append(exact)
        glob = f"svc{service:04d}.mod{module}.*" if i % 4 else f"svc{service:04d}.mod{module}.*.run"
        if i % 50 == 7:
            lines.append(f"  {glob}: {{queue: q{service:04d}, time_limit: {20 + i % 30}m, soft_time_limit: 15m}}")
        elif i % 25 == 11:
            lines.append(f"  {glob}: {{queue: q{service:04d}, retry: {{max_retries: {i % 5}, delay: 30s}}}}")
        else:
            lines.append(f"  {glob}: q{service:04d}")
    return lines


def _pools(n: int) -> list[str]:
    lines = []
    for i in range(n):
        queues = ", ".join(f"q{(i + k) % n:04d}" for k in range(1 + i % 3))
        lines += [f"  p{i:04d}:", f"    queues: [{queues}]", f"    concurrency: {1 + i % 8}"]
        lines += [f"    hostname: p{i:04d}@%h", f"    hosts: [host-{i % HOSTS}]"]
        if i % 5 == 2:
            lines += ["    time_limit: 1h", "    soft_time_limit: 50m"]
        if i % 7 == 4:
            lines += ["    pool: threads"]
        if i % 4 == 1:
            lines += ["    scale: {min: 1, max: 5, per_replica: 20}"]
    return lines


def _beat(n: int) -> list[str]:
    lines = []
    for i in range(n):
        task = f"svc{i % n:04d}.tasks.task{i:05d}" if i % 2 else f"svc{i % n:04d}.mod{i % 5}.nightly"
        when = f'cron: "{i % 60} {i % 24} * * *"' if i % 3 else f"every: {1 + i % 12}h"
        lines.append(f"    entry{i:04d}: {{task: {task}, {when}}}")
    return lines


PROBLEMS = {  # section -> lines appended to it: one deliberate mistake for each check
    "queues": ["  orphan: {}"],
    "routes": [
        "  svc0001.mod1.**: q0001",  # same pattern as svc0001.mod1.* to Celery
        "  svc0002.mod2.deep.*: q0002",  # shadowed by svc0002.mod2.*
        "  svc0003.tasks.odd?: q0003",  # ? in an exact name
        "  svc0004.tasks.lost: nowhere",  # undeclared queue
        "  svc0005.tasks.slow: {queue: q0005, time_limit: 5m, soft_time_limit: 6m}",  # soft above hard
        "  svc0006.tasks.long: {queue: q0002, time_limit: 3h}",  # above pool p0002's 1h
    ],
    "pools": ["  dup:", "    queues: [q0003]", "    hostname: p0003@%h", "    hosts: [host-3]"],
    "beat": ["    orphaned: {task: svc0007.tasks.orphaned, cron: '0 3 * * *', queue: orphan, kwargs: {flag: no}}"],
}


def generate(n: int, problems: bool = False) -> str:
    """The topology of size `n` as YAML text; with `problems`, the deliberate mistakes of PROBLEMS too."""
    extra = PROBLEMS if problems else {}
    queues = [f"  q{i:04d}: {{}}" if i % 9 else f"  q{i:04d}: {{max_priority: 5}}" for i in range(n)]
    sections = [
        "version: 1",
        "app: scale.celery:app",
        "broker:",
        "  url: ${CELERY_BROKER_URL:-redis://localhost:6379/0}",
        "  visibility_timeout: 6h",
        "defaults:",
        "  queue: q0000",
        "  time_limit: 10m",
        "  soft_time_limit: 9m",
        "  retry: {max_retries: 3, delay: 1m, backoff: exponential, max_delay: 10m}",
        "queues:",
        *queues,
        *extra.get("queues", []),
        "routes:",
        *_routes(n),
        *extra.get("routes", []),
        "pools:",
        *_pools(n),
        *extra.get("pools", []),
        "beat:",
        "  timezone: UTC",
        "  host: host-0",
        "  schedule:",
        *_beat(n),
        *extra.get("beat", []),
        "deploy:",
        "  name: scale",
        "  working_directory: /srv/scale",
        "  celery: /srv/scale/venv/bin/celery",
        "  environment_file: /etc/scale/celery.env",
        "  kubernetes: {image: registry.example.com/scale:1.0}",
    ]
    return "\n".join(sections) + "\n"


def commands(path: Path, units: Path) -> dict[str, list[str]]:
    tool = [str(BIN / "celery-topology"), "--file", str(path)]
    return {
        "validate": [*tool, "validate"],
        "render systemd": [*tool, "render", "systemd"],
        "render supervisor": [*tool, "render", "supervisor"],
        "render kubernetes": [*tool, "render", "kubernetes"],
        "render --check": [*tool, "render", "systemd", "-o", str(units), "--check"],
        "show": [*tool, "show"],
        "route": [*tool, "route", "svc0001.mod3.cleanup"],
    }


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak memory (max RSS, kB) of one run of `argv` (exit 0, or 1 for validate's findings)."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1) or (process.returncode == 1 and "validate" not in argv):
            errors.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed:\n{errors.read().decode()}")
    return seconds, usage.ru_maxrss


def measure(sizes: list[int], repetitions: int, workdir: Path) -> None:
    celery = [str(BIN / "celery"), "--help"]
    results: dict[str, dict[int, float]] = {}
    baseline: dict[int, float] = {}
    memory: dict[str, int] = {}
    for n in sizes:
        path = workdir / f"topology-{n}.yaml"
        path.write_text(generate(n))
        units = workdir / f"units-{n}"
        argvs = commands(path, units)
        subprocess.run([*argvs["render systemd"][:-1], "systemd", "-o", str(units)], check=True, capture_output=True)
        times: dict[str, list[float]] = {name: [] for name in ["celery --help", *argvs]}
        for _ in range(repetitions):
            for name, argv in argvs.items():  # alternate: celery --help before every command
                times["celery --help"].append(timed(celery)[0])
                seconds, peak = timed(argv)
                times[name].append(seconds)
                if n == 1000:
                    memory[name] = max(memory.get(name, 0), peak)
        baseline[n] = statistics.median(times.pop("celery --help"))
        print(f"N={n}: {path.stat().st_size} bytes; celery --help {baseline[n]:.3f} s", flush=True)
        for name, values in times.items():
            results.setdefault(name, {})[n] = statistics.median(values)
            print(
                f"  {name:18} {statistics.median(values):8.3f} s  {statistics.median(values) / baseline[n]:6.2f}x",
                flush=True,
            )
    report(results, baseline, sizes, memory)


def report(
    results: dict[str, dict[int, float]], baseline: dict[int, float], sizes: list[int], memory: dict[str, int]
) -> None:
    print("\ncommand            " + "".join(f"{f'N={n}':>22}" for n in sizes) + "   growth 1st->N=1000")
    for name, by_size in results.items():
        cells = []
        for i, n in enumerate(sizes):
            exponent = ""
            if i:
                previous = sizes[i - 1]
                exponent = f" e{math.log(by_size[n] / by_size[previous]) / math.log(n / previous):.2f}"
            cells.append(f"{by_size[n]:7.2f}s {by_size[n] / baseline[n]:5.1f}x{exponent:>6}")
        growth = f"{by_size[1000] / by_size[sizes[0]]:.1f}x" if 1000 in by_size and sizes[0] < 1000 else "-"
        print(f"{name:18} " + "".join(f"{c:>22}" for c in cells) + f"   {growth}")
    if memory:
        print("\npeak memory at N=1000 (max RSS): " + ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in memory.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000,3000")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--write", nargs=2, metavar=("N", "FILE"))
    parser.add_argument("--problems", action="store_true")
    args = parser.parse_args()
    if args.write:
        Path(args.write[1]).write_text(generate(int(args.write[0]), args.problems))
        return
    with tempfile.TemporaryDirectory() as workdir:
        measure([int(n) for n in args.sizes.split(",")], args.repetitions, Path(workdir))


if __name__ == "__main__":
    main()
