"""A broker that answers but refuses us: RabbitMQ with a wrong password or a missing virtual host,
Redis with a wrong password. `status`, `doctor` and `/workers/health` say so plainly (exit 1, 503,
the usual JSON shape), never with a traceback or the password."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from celery_topology import load
from celery_topology.cluster.health import standalone_app

from support import RedisServer, run_cli, worker_env

PASSWORD = "wrong-Pw-" + uuid.uuid4().hex[:6]  # wrong for every broker here: it must never be printed
VHOST = "no-such-vhost-" + uuid.uuid4().hex[:8]
LOGIN = "broker unreachable: login refused; check the user and password of the broker URL (environment file or .env)"
NO_VHOST = (
    f"broker unreachable: virtual host {VHOST!r} does not exist or the user may not use it;"
    " create it (rabbitmqctl add_vhost) and grant the user access (rabbitmqctl set_permissions)"
)
TOPOLOGY = """\
version: 1
app: probe_app
broker: {url: "${CELERY_BROKER_URL}"}
queues: {default: {}}
pools: {all: {queues: [default]}}
"""


def json_of(*args: str, path: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    done = run_cli("--file", path, *args, "--format", "json", env=env)
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def health(path: Path, env: dict[str, str]) -> httpx.Response:
    async def ask() -> httpx.Response:
        app = standalone_app(load(path, environ=env), timeout=2.0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
            return await client.get("/workers/health")

    return asyncio.run(ask())


@pytest.fixture
def redis_with_password(fresh_redis: RedisServer) -> str:
    fresh_redis.client().config_set("requirepass", "the-right-one")
    return f"redis://:{PASSWORD}@127.0.0.1:{fresh_redis.port}/0"


@pytest.mark.parametrize(
    ("broker", "message"),
    [
        (f"amqp://guest:{PASSWORD}@127.0.0.1:5672//", LOGIN),
        (f"amqp://guest:guest@127.0.0.1:5672/{VHOST}", NO_VHOST),
        ("redis", LOGIN),
    ],
    ids=["rabbitmq-login", "rabbitmq-vhost", "redis-login"],
)
def test_a_refused_broker_reads_as_unreachable(
    tmp_path: Path, broker: str, message: str, request: pytest.FixtureRequest
) -> None:
    if broker == "redis":
        broker = request.getfixturevalue("redis_with_password")
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY)
    (tmp_path / "probe_app.py").write_text("from celery import Celery\n\napp = Celery('probe')\n")  # doctor imports it
    env = worker_env(broker, path, PYTHONPATH=str(tmp_path))

    code, report, _ = json_of("status", "--timeout", "2", path=path, env=env)
    assert code == 1 and report["healthy"] is False
    assert report["findings"] == [{"level": "error", "code": "broker-unreachable", "message": message}]
    text = run_cli("--file", path, "status", env=env)
    assert text.returncode == 1 and text.stdout.endswith(f"error: {message}\n"), text.stdout + text.stderr

    code, report, _ = json_of("doctor", path=path, env=env)
    assert code == 1 and report["ok"] is False
    errors = [(f["code"], f["message"]) for f in report["findings"] if f["level"] == "error"]
    assert errors == [("broker-unreachable", message)]

    response = health(path, env)
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "workers_online": 0, "workers": []}
