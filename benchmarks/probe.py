#!/usr/bin/env python3
"""One liveness probe call: `celery-topology probe live` against `celery inspect ping`, and both
against a bare `python -c pass`, side by side in one run.

    .venv/bin/python benchmarks/probe.py [--rounds 7]

A private redis-server and one real `celery worker` (configured by celery-topology, so it beats its
heartbeat file) answer both. Each command runs as a child process; its CPU time (user + system)
and peak memory (max RSS) come from the kernel's accounting of that child (`os.wait4`). Rounds
interleave the three commands; medians are printed, then the ratios the probe must meet:
CPU at most 1/10 of `inspect ping`'s, memory at most 1.5x bare Python's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
sys.path.insert(0, str(ROOT / "tests"))

from support import BIN, RedisServer, start_worker, worker_env  # noqa: E402

APP = """
from celery import Celery
from celery_topology import configure

app = Celery("probe_bench")
configure(app)
"""
TOPOLOGY = """
version: 1
app: probe_bench:app
broker: {url: "${CELERY_BROKER_URL}"}
defaults: {queue: bench}
queues: {bench: {}}
pools:
  bench: {queues: [bench], concurrency: 1}
"""


def measure(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(CPU seconds, peak RSS in MiB, exit code) of one child running `argv`, as GNU time reports them.

    Through /usr/bin/time (Debian package `time`), not a fork of this process: Linux carries a forked
    child's pre-exec peak RSS (this whole interpreter) into its max RSS.
    """
    report = cwd / "time.out"
    argv = [TIME, "-f", "%U %S %M", "-o", str(report), *argv]
    code = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    user, system, rss = report.read_text().split()[-3:]
    return float(user) + float(system), int(rss) / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} is missing: apt-get install time")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "probe_bench.py").write_text(APP)
        (work / "topology.yaml").write_text(TOPOLOGY)
        redis = RedisServer(work)
        env = worker_env(redis.url, work / "topology.yaml", CELERY_TOPOLOGY_PROBE_DIR=str(work / "beats"))
        env["PYTHONPATH"] = f"{work}:{env['PYTHONPATH']}"
        worker = start_worker("probe_bench", ["bench"], "bench@%h", env, work / "worker.log")
        commands = {
            "python -c pass": [str(BIN / "python"), "-c", "pass"],
            "celery-topology probe live": [str(BIN / "celery-topology"), "probe", "live", "--pool", "bench"],
            "celery inspect ping": [str(BIN / "celery"), "-A", "probe_bench", "inspect", "ping", "--timeout", "5"],
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        try:
            for _ in range(rounds):
                for name, argv in commands.items():
                    cpu, rss, code = measure(argv, env, work)
                    if code != 0:
                        raise SystemExit(f"{name} exited with {code}; see {work / 'worker.log'}")
                    results[name].append((cpu, rss))
        finally:
            worker.stop()
            redis.stop()
    median = {
        name: (statistics.median(c for c, _ in r), statistics.median(m for _, m in r)) for name, r in results.items()
    }
    print(f"{'command':<28} {'CPU s (median)':>15} {'max RSS MiB':>12}   ({rounds} rounds)")
    for name, (cpu, rss) in median.items():
        print(f"{name:<28} {cpu:>15.4f} {rss:>12.1f}")
    probe, ping, bare = median["celery-topology probe live"], median["celery inspect ping"], median["python -c pass"]
    cpu_ratio, rss_ratio = probe[0] / ping[0], probe[1] / bare[1]
    print(f"probe CPU / inspect ping CPU: {cpu_ratio:.3f}  (must be <= 0.1)")
    print(f"probe RSS / python -c pass RSS: {rss_ratio:.2f}  (must be <= 1.5)")
    print(f"inspect ping RSS / python -c pass RSS: {ping[1] / bare[1]:.2f}")


if __name__ == "__main__":
    main()
