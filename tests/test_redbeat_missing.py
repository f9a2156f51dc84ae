"""RedBeat as machines have it: without celery-redbeat, status, doctor and configure(app) say what to install;
with a Redis socket broker, RedBeat gets a URL its client reads.

The machine is simulated the way Python documents: `sys.modules["redbeat"] = None` makes every
`import redbeat...` raise ModuleNotFoundError, as on a machine where the package is absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT, RedisServer, worker_env

WITHOUT_REDBEAT = "import sys; sys.modules['redbeat'] = None; "
INSTALL = "install celery-topology[redbeat]"
SOCKET_TOPOLOGY = """\
version: 1
app: proj.celery:app
broker: {url: "${CELERY_BROKER_URL}"}
queues: {default: {}}
pools: {default: {queues: [default], hosts: [a, b]}}
beat:
  scheduler: redbeat
  hosts: [a, b]
  schedule: {tick: {task: proj.tick, every: 1h}}
"""


def without_redbeat(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", WITHOUT_REDBEAT + code]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def cli_without_redbeat(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    code = f"from celery_topology.cli import main; sys.argv = ['celery-topology', *{list(args)!r}]; main()"
    return without_redbeat(code, env, cwd)


@pytest.fixture
def redis(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path, persistence=True)  # doctor's Redis findings stay out of the way
    yield server
    server.stop()


def test_status_and_doctor_say_what_to_install(tmp_path: Path, redis: RedisServer) -> None:
    env = worker_env(redis.url, ROOT / "topology.yaml", CELERY_TOPOLOGY_ENV="production")
    status = cli_without_redbeat("status", "--timeout", "0.5", env=env, cwd=tmp_path)
    assert "Traceback" not in status.stderr, status.stderr
    assert status.returncode == 1  # no worker, no beat: unhealthy, and said so
    assert f"warning: beat.scheduler is redbeat, but celery-redbeat is not installed here: {INSTALL}" in status.stdout
    assert "BEAT LOCK redbeat:agentic_clinical_assistant.workers.celery_app:production::lock: held by nobody" in (
        status.stdout
    )
    doctor = cli_without_redbeat("doctor", "--format", "json", env=env, cwd=tmp_path)
    assert "Traceback" not in doctor.stderr, doctor.stderr
    assert doctor.returncode == 1, doctor.stdout  # the app itself cannot be loaded here: configure(app) needs it
    assert '"code": "redbeat-missing"' in doctor.stdout and INSTALL in doctor.stdout


def test_configure_names_the_extra(tmp_path: Path) -> None:
    env = worker_env("redis://127.0.0.1:6379/0", ROOT / "topology.yaml", CELERY_TOPOLOGY_ENV="production")
    code = (
        "from celery import Celery; from celery_topology import configure\n"
        "try:\n    configure(Celery('x'))\nexcept ImportError as exc:\n    print(exc)\n"
    )
    result = without_redbeat(code, env, tmp_path)
    assert result.stdout.startswith(f"beat.scheduler is redbeat, but celery-redbeat is not installed here: {INSTALL}")


def test_redbeat_reaches_a_redis_socket_broker(tmp_path: Path) -> None:
    """kombu's `redis+socket://PATH` broker: RedBeat gets the URL redis-py reads (`unix://PATH`), not one it refuses."""
    from celery import Celery
    from redbeat.schedulers import get_redis

    from celery_topology import configure, load

    socket = tmp_path / "redis.sock"
    server = RedisServer(tmp_path, args=("--unixsocket", str(socket), "--unixsocketperm", "700"))
    try:
        (tmp_path / "topology.yaml").write_text(SOCKET_TOPOLOGY)
        topology = load(tmp_path / "topology.yaml", {"CELERY_BROKER_URL": f"redis+socket://{socket}"})
        app = Celery("socket", set_as_current=False)
        configure(app, topology)
        assert get_redis(app).ping()
    finally:
        server.stop()
