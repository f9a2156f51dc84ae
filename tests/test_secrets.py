"""A canary broker password, given only through the environment, appears nowhere the tool writes.

Not in rendered files, not in any command's stdout or stderr (also when the password is wrong, the
broker unreachable or the topology broken), not in the log of a worker the tool configures.
Every command runs as the real console script; the redis-server really requires the password.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from celery_topology.cli import main

from support import BIN, ROOT, Process, RedisServer, free_port, run_cli, start_worker, worker_env

CANARY = f"canary-{uuid.uuid4().hex}"
WRONG = f"canary-wrong-{uuid.uuid4().hex}"
TASK = "agentic_clinical_assistant.workers.tasks.agent.plan"
COMMANDS: dict[str, list[list[str]]] = {
    "validate": [["validate"], ["validate", "--format", "json"]],
    "render": [
        [verb, target, *fmt]
        for verb in ("render",)
        for target in ("systemd", "supervisor", "kubernetes", "prometheus")
        for fmt in ([], ["--format", "json"])
    ],
    "route": [["route", TASK], ["route", TASK, "--format", "json"]],
    "show": [["show"], ["show", "--format", "json"]],
    "graph": [["graph"]],
    "status": [["status", "--timeout", "1"], ["status", "--timeout", "1", "--format", "json"]],
    "doctor": [["doctor"], ["doctor", "--format", "json"]],
    "dead": [["dead", "list"], ["dead", "list", "--format", "json"]],
    "import": [["import", "agentic_clinical_assistant.workers.celery_app", "-o", "imported.yaml"]],
    "probe": [["probe", "live"], ["probe", "ready"]],
}
OFFLINE = {"validate", "render", "route", "show", "graph", "import"}  # exit 0 whatever the broker does
NO_BROKER_OR_LONG_RUNNING = {"schema", "serve"}  # serve's output is checked by tests/test_live.py
REGISTERED = set(main.list_commands(click.Context(main)))


@dataclass
class Setup:
    """The project's topology in a scratch directory, a password-protected redis-server, and every output seen."""

    work: Path
    server: RedisServer
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)

    def url(self, password: str = CANARY, port: int | None = None) -> str:
        return f"redis://:{password}@127.0.0.1:{port or self.server.port}/0"

    def cli(self, *args: str | Path, url: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "CELERY_BROKER_URL": url or self.url(), "CELERY_RESULT_BACKEND": url or self.url()}
        done = run_cli("--file", self.work / "topology.yaml", *args, cwd=self.work, env=env)
        self.outputs += [f"$ {' '.join(map(str, args))}\n{done.stdout}{done.stderr}"]
        return done

    def assert_no_canary(self, *texts: str) -> None:
        leaked = [text for text in [*self.outputs, *texts] if CANARY in text or WRONG in text]
        assert not leaked, f"a broker password appeared: {leaked[0][:2000]}"


@pytest.fixture
def setup(tmp_path: Path, fresh_redis: RedisServer) -> Setup:
    fresh_redis.client().config_set("requirepass", CANARY)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "topology.yaml", work / "topology.yaml")
    return Setup(work, fresh_redis, worker_env("", work / "topology.yaml"))


def test_every_command_is_covered_by_the_canary() -> None:
    assert set(COMMANDS) >= REGISTERED - NO_BROKER_OR_LONG_RUNNING


@pytest.mark.parametrize("broker", ["right password", "wrong password", "unreachable"])
def test_no_command_prints_the_password(setup: Setup, broker: str) -> None:
    url = {
        "right password": setup.url(),
        "wrong password": setup.url(WRONG),
        "unreachable": setup.url(port=free_port()),
    }
    ran = [argv for name, variants in COMMANDS.items() if name in REGISTERED for argv in variants]
    done = {" ".join(argv): setup.cli(*argv, url=url[broker]) for argv in ran}
    # Each command did its work (a command that stopped at a usage error would print nothing to leak).
    reached = broker == "right password"
    expected = {**dict.fromkeys(OFFLINE, 0), "status": 1, "doctor": 1, "dead": 0 if reached else 1}
    expected["probe"] = 1  # no worker runs here, so no heartbeat: not live, not ready
    codes = {command: result.returncode for command, result in done.items()}
    assert codes == {command: expected[command.split()[0]] for command in done}, setup.outputs
    for command, result in done.items():
        if "--format json" in command and (result.returncode == 0 or command.startswith(("status", "doctor"))):
            json.loads(result.stdout)  # the report itself (status and doctor report a failing broker too)
    status = done["status --timeout 1 --format json"]
    assert ("broker-unreachable" in status.stdout) == (not reached)  # the password was really used
    setup.assert_no_canary((setup.work / "imported.yaml").read_text())


def test_rendered_files_hold_no_password(setup: Setup) -> None:
    for target in ("systemd", "supervisor", "kubernetes", "prometheus"):
        assert setup.cli("render", target, "-o", setup.work / target).returncode == 0
    written = [p.read_text() for p in setup.work.glob("*/*")]
    assert len(written) > 5
    assert any("EnvironmentFile=" in text for text in written)  # the secret is referenced, not copied
    setup.assert_no_canary(*written)


@pytest.mark.parametrize(
    "broken",
    [
        "url: foo://:{password}@127.0.0.1:6379/0",  # unknown scheme
        "url: 'redis:// :{password}@127.0.0.1/0'",  # not a URL
        "url: redis://:{password}@127.0.0.1:6379/0",  # a password in the file itself
    ],
)
def test_errors_about_a_broken_broker_section_do_not_echo_the_password(setup: Setup, broken: str) -> None:
    path = setup.work / "topology.yaml"
    text = path.read_text()
    start = text.index("  url: ${CELERY_BROKER_URL")
    path.write_text(text[:start] + "  " + broken.format(password=CANARY) + text[text.index("\n", start) :])
    assert setup.cli("validate").returncode == 1
    assert setup.cli("render", "systemd", "-o", setup.work / "out").returncode == 1
    assert not (setup.work / "out").exists()
    setup.assert_no_canary()


def test_a_configured_worker_logs_no_password(setup: Setup) -> None:
    """The worker runs `configure(app)` (the tool's own code, its retry policies log there) on the canary URL."""
    env = {**setup.env, "CELERY_BROKER_URL": setup.url(), "CELERY_RESULT_BACKEND": setup.url()}
    log = setup.work / "worker.log"
    app = "agentic_clinical_assistant.workers.celery_app"
    worker = start_worker(app, ["default"], "canary@%h", env, log, extra=["--loglevel=DEBUG"])
    worker.stop()
    setup.assert_no_canary(log.read_text())


def test_a_worker_refused_by_the_broker_logs_no_password(setup: Setup) -> None:
    env = {**setup.env, "CELERY_BROKER_URL": setup.url(WRONG), "CELERY_RESULT_BACKEND": setup.url(WRONG)}
    argv = [str(BIN / "celery"), "-A", "agentic_clinical_assistant.workers.celery_app", "worker", "-P", "solo"]
    worker = Process([*argv, "-Q", "default", "-n", "refused@%h", "--loglevel=DEBUG"], setup.work / "w.log", env=env)
    try:
        worker.wait_for_output("Cannot connect to redis://", 90)
    finally:
        worker.stop()
    assert "invalid username-password pair or user is disabled" in worker.output()
    setup.assert_no_canary(worker.output())
