"""Real processes for tests: a private redis-server and Celery workers, ended by their own pid."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
# The flagship example (examples/agentic_clinical_assistant): its app, its tasks' package, and the
# head of a topology for it whose broker and result backend come from the environment.
APP = "agentic_clinical_assistant.workers.celery_app"
TASKS = "agentic_clinical_assistant.workers.tasks"
EXAMPLE_HEAD = (
    f'version: 1\napp: {APP}\nbroker: {{url: "${{CELERY_BROKER_URL}}", result_backend: "${{CELERY_RESULT_BACKEND}}"}}\n'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(predicate: object, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up after {timeout}s waiting for {what}")


def systemd_words(unit: str, key: str) -> list[str]:
    """A unit directive's words as systemd passes them: quotes removed, `%%` and `$$` undone."""
    (line,) = re.findall(rf"^{key}=(.*)$", unit, re.M)
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(line)]


def run_cli(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `celery-topology` console script as a subprocess, its output captured as text."""
    argv = [str(BIN / "celery-topology"), *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


class Process:
    """A child process in its own session, its output in a log file; stopped by its recorded pid."""

    def __init__(self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.argv = list(argv)
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv, stdout=self._out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        self.pid = self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_for(seen, timeout, f"{text!r} in {self.log}")

    def send(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int | None:
        """Send `sig` to the process; after `timeout`, SIGKILL its whole process group."""
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._kill_group_leftovers()
        self._out.close()
        return self.proc.returncode

    def _kill_group_leftovers(self) -> None:
        """Children of ours (pool processes) that outlived their parent; the group id is our recorded pid."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


class RedisServer:
    """A private redis-server on a free loopback port."""

    def __init__(
        self,
        workdir: Path,
        persistence: bool = False,
        port: int | None = None,
        start: bool = True,
        args: Sequence[str] = (),  # more redis-server options, e.g. ("--maxmemory-policy", "allkeys-lru")
    ):
        self.workdir = workdir
        self.args = list(args)
        self.port = port or free_port()
        self.movable = port is None and start  # may move to another free port until it first runs
        self.persistence = persistence
        self.process: Process | None = None
        if start:  # start=False: the address is known before the server runs (call start() later)
            self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: the tests need the real server")
        save = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistence else ["--appendonly", "no"]
        for _ in range(5):  # another test (an xdist worker) may take the free port before redis binds it
            argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.workdir)]
            self.process = Process([*argv, *save, *self.args], self.workdir / f"redis-{self.port}.log")
            wait_for(lambda: self.ping() or self.process.proc.poll() is not None, 20, f"redis on port {self.port}")
            if self.process.proc.poll() is None and self.client().info("server")["process_id"] == self.process.pid:
                self.movable = False
                return  # ours answered, not another test's server on the same port
            self.process.stop()
            if not self.movable:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server could not bind port {self.port}: {self.workdir}")

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


def worker_env(broker_url: str, topology: Path, **extra: str) -> dict[str, str]:
    """The environment a test worker (or producer subprocess) runs in: its broker, topology and the examples."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "PYTEST_"))}
    env.update(
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        CELERY_TOPOLOGY_FILE=str(topology),
        PYTHONPATH=os.pathsep.join([str(EXAMPLES), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONUNBUFFERED="1",
        # heartbeat files of this test's workers only: the probe's shared default would see other tests' workers
        CELERY_TOPOLOGY_PROBE_DIR=tempfile.mkdtemp(prefix="ct-probe-"),
    )
    env.update(extra)
    return env


def start_worker(
    app: str,
    queues: Sequence[str],
    hostname: str,
    env: dict[str, str],
    log: Path,
    *,
    concurrency: int = 1,
    pool: str = "prefork",
    extra: Sequence[str] = (),
    timeout: float = 90,
) -> Process:
    """A real `celery worker` consuming `queues`, returned once it logs that it is ready."""
    argv = [str(BIN / "celery"), "-A", app, "worker", "-Q", ",".join(queues), "-n", hostname]
    argv += ["-c", str(concurrency), "-P", pool, "--loglevel=INFO", "--without-gossip", "--without-mingle", *extra]
    worker = Process(argv, log, env=env, cwd=log.parent)
    worker.wait_for_output(" ready.", timeout)
    return worker


MERMAID = ROOT / "tests" / "mermaid"  # mermaid's own parser under node: `npm ci --prefix tests/mermaid`


class MermaidParser:
    """One node process (`tests/mermaid/parse.mjs`) that parses chart after chart with mermaid's own parser.
    `parse` answers {"type": ...} or {"error": ...}; the session shares one (the `mermaid_parser` fixture)."""

    def __init__(self) -> None:
        assert (MERMAID / "node_modules" / "mermaid").is_dir(), "run `npm ci --prefix tests/mermaid` (as .ci/run does)"
        argv = ["node", str(MERMAID / "parse.mjs")]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def parse(self, text: str) -> dict[str, str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(text) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, str] = json.loads(self.proc.stdout.readline())  # "" (node died) fails here
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)
