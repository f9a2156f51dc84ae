"""`celery-topology doctor` against real brokers: each redis-server is started with the misconfiguration it finds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from celery_topology.runtime.deadletter import keep

from support import RedisServer, free_port, run_cli, worker_env

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def topology(tmp_path: Path, broker: str, backend: str, **extra: Any) -> tuple[Path, dict[str, str]]:
    """A small topology whose broker and result backend come from the environment."""
    body = {
        "version": 1,
        "app": "probe_app",
        "broker": {"url": "${CELERY_BROKER_URL}", "result_backend": "${CELERY_RESULT_BACKEND}", **extra},
        "defaults": {"time_limit": "10m"},
        "queues": {"default": {}},
        "pools": {"all": {"queues": ["default"]}},
    }
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    (tmp_path / "probe_app.py").write_text("from celery import Celery\n\napp = Celery('probe')\n")
    return path, worker_env(broker, path, CELERY_RESULT_BACKEND=backend, PYTHONPATH=str(tmp_path))


def doctor(path: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run_cli("--file", path, "doctor", "--format", "json", env=env)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def codes(report: dict[str, Any]) -> list[str]:
    return [f["code"] for f in report["findings"]]


def test_clean_on_a_persistent_noeviction_redis(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=True)
    try:
        path, env = topology(tmp_path, server.url, server.url)
        result = run_cli("--file", path, "doctor", env=env)
    finally:
        server.stop()
    assert (result.returncode, result.stdout, result.stderr) == (0, f"OK  broker {server.url}\n", "")


def test_eviction_policy_is_found_with_the_fix(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=True, args=["--maxmemory-policy", "allkeys-lru"])
    try:
        path, env = topology(tmp_path, server.url, server.url)
        code, report = doctor(path, env)
        text = run_cli("--file", path, "doctor", env=env).stdout
    finally:
        server.stop()
    assert (code, report["ok"], codes(report)) == (1, False, ["redis-eviction"])
    assert text.startswith(f"PROBLEMS  broker {server.url}\nerror: Redis maxmemory-policy is allkeys-lru: ")
    assert "set `maxmemory-policy noeviction`" in text


def test_persistence_off_is_found_with_the_fix(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=False)  # --save "" --appendonly no
    try:
        path, env = topology(tmp_path, server.url, server.url)
        code, report = doctor(path, env)
    finally:
        server.stop()
    assert (code, codes(report)) == (1, ["redis-no-persistence"])
    assert "a restart loses every queued task; turn on `appendonly yes`" in report["findings"][0]["message"]


def test_an_rdb_save_rule_counts_as_persistence(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=False, args=["--save", "900 1"])
    try:
        path, env = topology(tmp_path, server.url, server.url)
        code, report = doctor(path, env)
    finally:
        server.stop()
    assert (code, codes(report)) == (0, [])


def test_visibility_timeout_below_the_time_limit_is_reported_with_the_fix(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=True)
    try:
        path, env = topology(tmp_path, server.url, server.url, visibility_timeout="1m")
        result = run_cli("--file", path, "doctor", env=env)
    finally:
        server.stop()
    assert result.returncode == 1
    assert "defaults.time_limit: time_limit 600s is longer than the Redis visibility timeout" in result.stderr
    assert "raise broker.visibility_timeout above it (now 60s) or shorten it [visibility-timeout]" in result.stderr


def test_dead_letters_waiting_are_a_warning(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=True)
    try:
        path, env = topology(tmp_path, server.url, server.url)
        keep(server.url, {"id": "t-1", "queue": "default", "task": "probe.x", "time": "2026-01-01T00:00:00Z"})
        code, report = doctor(path, env)
    finally:
        server.stop()
    assert (code, codes(report)) == (0, ["dead-letters"])
    assert report["findings"][0]["message"] == "1 dead letter kept; see `celery-topology dead list`"


def test_rabbitmq_connection_ok_and_nothing_redis_specific(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)  # the result backend: its persistence is not the broker's business
    try:
        path, env = topology(tmp_path, RABBITMQ, server.url)
        code, report = doctor(path, env)
    finally:
        server.stop()
    assert (code, report) == (0, {"ok": True, "broker": "amqp://guest:***@127.0.0.1:5672//", "findings": []})


def test_unreachable_brokers_are_errors(tmp_path: Path) -> None:
    port = free_port()
    for broker in (f"redis://127.0.0.1:{port}/0", f"amqp://guest:guest@127.0.0.1:{port}//"):
        path, env = topology(tmp_path, broker, f"redis://127.0.0.1:{port}/1")
        code, report = doctor(path, env)
        assert (code, codes(report)) == (1, ["broker-unreachable"]), report
        assert "guest:guest" not in json.dumps(report)


def test_an_app_path_that_does_not_import_is_an_error_with_the_fix(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, persistence=True)
    try:
        path, env = topology(tmp_path, server.url, server.url)
        assert doctor(path, env)[0] == 0  # probe_app imports: no finding
        path.write_text(path.read_text().replace("app: probe_app", "app: probe_ap.workers"))
        code, report = doctor(path, env)
    finally:
        server.stop()
    assert (code, codes(report)) == (1, ["app-import"])
    assert report["findings"][0]["message"] == (
        "app 'probe_ap.workers' cannot be loaded as `celery -A probe_ap.workers` would:"
        " ModuleNotFoundError: No module named 'probe_ap'; fix `app:` in the file,"
        " or run from the directory (PYTHONPATH) the workers run in"
    )
