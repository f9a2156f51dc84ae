"""${VAR} and ${VAR:-default}: from the environment, then from .env beside the file; secrets never echoed."""

from __future__ import annotations

import json
from pathlib import Path

from celery_topology.topology.validate import check

from support import run_cli

TOPOLOGY = """version: 1
app: shop.app
broker:
  url: ${SHOP_BROKER_URL}
  result_backend: ${SHOP_BACKEND:-redis://localhost:6379/1}
queues:
  default: {}
pools:
  default:
    queues: [default]
    hostname: ${SHOP_WORKER:-default}@%h
"""


def write(tmp_path: Path, dotenv: str | None = None) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return path


def test_dotenv_beside_the_file_supplies_values(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOP_BROKER_URL=redis://envfile:6379/0\nSHOP_WORKER=fromfile\n")
    topology, problems = check(path, environ={})
    assert problems == [] and topology is not None
    assert topology.broker.url == "redis://envfile:6379/0"
    assert topology.broker.result_backend == "redis://localhost:6379/1"
    assert topology.pools["default"].hostname == "fromfile@%h"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    path = write(tmp_path, "SHOP_BROKER_URL=redis://envfile:6379/0\n")
    topology, _ = check(path, environ={"SHOP_BROKER_URL": "redis://environ:6379/0", "SHOP_BACKEND": "rpc://"})
    assert topology is not None
    assert topology.broker.url == "redis://environ:6379/0"
    assert topology.broker.result_backend == "rpc://"


def test_empty_value_takes_the_default(tmp_path: Path) -> None:
    topology, _ = check(write(tmp_path), environ={"SHOP_BROKER_URL": "redis://h/0", "SHOP_WORKER": ""})
    assert topology is not None and topology.pools["default"].hostname == "default@%h"


def test_missing_variable_is_an_error_at_its_place(tmp_path: Path) -> None:
    topology, problems = check(write(tmp_path), environ={})
    assert topology is None
    assert [(p.line, p.col, p.path, p.code) for p in problems] == [(4, 8, "broker.url", "env-missing")]


def test_expanded_values_obey_the_grammar(tmp_path: Path) -> None:
    """A value from the environment is checked like one written in the file: no newline sneaks into a unit."""
    environ = {"SHOP_BROKER_URL": "redis://h/0", "SHOP_WORKER": "w\nExecStartPre=/bin/sh"}
    topology, problems = check(write(tmp_path), environ=environ)
    assert topology is None
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'topology.yaml'}:11:15: pools.default.hostname: '\\n' is not allowed in a worker hostname"
        " (name@host or a name alone as Celery takes them, not starting with '-' or '.';"
        " % only in Celery's %h %n %d %i %I) [value]"
    ]


def test_secrets_from_the_environment_are_never_echoed(tmp_path: Path) -> None:
    """Broken URLs that carry a password: the errors name the problem, never the value."""
    secret = "Xy7SecretPassw0rd"
    write(
        tmp_path,
        f"SHOP_BROKER_URL=redis://admin:{secret}@queue.example:99999/0\nSHOP_BACKEND=redis://admin:{secret}@h /1\n",
    )
    for fmt in ("text", "json"):
        result = run_cli("validate", "--format", fmt, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
        assert result.returncode == 1
        assert secret not in result.stdout + result.stderr
        assert "admin" not in result.stdout + result.stderr
    problems = json.loads(result.stdout)["problems"]
    assert [(p["path"], p["message"]) for p in problems] == [
        ("broker.url", "the URL's port is not a number from 0 to 65535"),
        (
            "broker.result_backend",
            "' ' is not allowed in a result backend such as redis://host:6379/1, rpc://, db+postgresql://... or django-db",
        ),
    ]


def test_password_by_reference_is_not_a_literal_credential(tmp_path: Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(TOPOLOGY.replace("${SHOP_BROKER_URL}", "redis://shop:${SHOP_PASSWORD}@redis.internal:6379/0"))
    topology, problems = check(path, environ={"SHOP_PASSWORD": "s3cret"})
    assert problems == [] and topology is not None
    assert topology.broker.url == "redis://shop:s3cret@redis.internal:6379/0"


def test_unreadable_dotenv_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path)
    (tmp_path / ".env").write_bytes(b"SHOP_BROKER_URL=redis://caf\xe9:6379/0\n")
    result = run_cli("validate", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        ".env: cannot read the file: not UTF-8 text [env-file]",
        f"{path.name}:4:8: broker.url: environment variable SHOP_BROKER_URL is not set;"
        " set it (or put it in .env beside the file) or write ${SHOP_BROKER_URL:-default} [env-missing]",
    ]
