"""`environments:` overlays: merged results against hand-merged files, marks in the overlay, --env and CELERY_TOPOLOGY_ENV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from celery_topology import load
from celery_topology.topology.environments import names
from celery_topology.topology.loader import parse
from celery_topology.topology.validate import check

from support import ROOT, run_cli

DATA = ROOT / "tests" / "data" / "environments"
CASE = DATA / "overlays.yaml"
OVERLAYS = names(parse(CASE).raw)
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_TOPOLOGY_")}


def test_corpus_covers_maps_lists_null_and_nested_retries() -> None:
    assert OVERLAYS == ["maps", "lists", "removals", "additions", "nobeat"]
    assert sorted(p.name for p in DATA.glob("overlays.*.yaml")) == sorted(f"overlays.{n}.yaml" for n in OVERLAYS)


@pytest.mark.parametrize("name", OVERLAYS)
def test_merged_equals_the_hand_merged_file(name: str) -> None:
    merged = load(CASE, environ={}, env=name)
    by_hand = load(DATA / f"overlays.{name}.yaml", environ={})
    assert merged.model_dump() == by_hand.model_dump()
    assert list(merged.routes) == list(by_hand.routes)  # routes an overlay adds come after the base's
    assert merged.environment == name and by_hand.environment is None


def test_base_is_the_file_without_its_environments() -> None:
    base = load(CASE, environ={})
    assert base.environment is None and list(base.environments) == OVERLAYS
    assert base.pools["default"].concurrency == 4


def test_an_error_in_an_overlay_is_reported_at_the_overlay_line(tmp_path: Path) -> None:
    text = CASE.read_text().replace("default: {concurrency: 16}", "default: {concurrency: 0}")
    (tmp_path / "t.yaml").write_text(text)
    line = text.splitlines().index("      default: {concurrency: 0}") + 1
    _, problems = check(tmp_path / "t.yaml", {}, "maps")
    assert [(p.line, p.col, p.path, p.code) for p in problems] == [(line, 30, "pools.default.concurrency", "range")]
    result = run_cli("-f", tmp_path / "t.yaml", "validate", env=ENV)
    assert result.returncode == 1
    expected = f"{tmp_path / 't.yaml'}:{line}:30: pools.default.concurrency: in environment 'maps': must be at least 1 [range]\n"
    assert result.stdout == expected


def test_a_base_value_an_environment_breaks_is_reported_at_the_base_line(tmp_path: Path) -> None:
    """The overlay removes the pool that consumes `mail`: the problem stands at the base's queue, naming the environment."""
    text = CASE.read_text().replace("  nobeat:\n", "  nomail:\n    pools: {mail: null}\n  nobeat:\n")
    (tmp_path / "t.yaml").write_text(text)
    result = run_cli("-f", tmp_path / "t.yaml", "validate", env=ENV)
    line = text.splitlines().index("  mail: {}") + 1
    assert result.stdout.startswith(
        f"{tmp_path / 't.yaml'}:{line}:3: queues.mail: in environment 'nomail': no pool consumes"
    )


def test_unknown_environment_is_a_usage_error_with_did_you_mean() -> None:
    for argv in (["--env", "prod", "show"], ["show", "--env", "prod"], ["validate", "--env", "prod"]):
        result = run_cli(*argv, env=ENV)
        assert result.returncode == 2, argv
        assert (
            "unknown environment 'prod' (did you mean 'production'?); the file has: staging, production"
            in result.stderr
        )
    result = run_cli("render", "systemd", env={**ENV, "CELERY_TOPOLOGY_ENV": "stagin"})
    assert result.returncode == 2 and "did you mean 'staging'?" in result.stderr


def test_env_option_and_variable_select_the_merged_topology() -> None:
    shown = run_cli("show", "--env", "production", env=ENV)
    assert shown.returncode == 0 and "environment: production" in shown.stdout
    assert "agent-1, agent-2" in shown.stdout
    by_variable = run_cli("show", env={**ENV, "CELERY_TOPOLOGY_ENV": "production"})
    assert by_variable.stdout == shown.stdout
    assert run_cli("--env", "staging", "show", env=ENV).stdout != shown.stdout
    assert "environment:" not in run_cli("show", env=ENV).stdout


def test_configure_reads_celery_topology_env(tmp_path: Path) -> None:
    """A process started with CELERY_TOPOLOGY_ENV (as the units set it) gets that environment's settings."""
    code = (
        "from celery import Celery; from celery_topology import configure; app = Celery('x'); configure(app);"
        "print(app.conf.broker_transport_options['visibility_timeout'], app.conf.get('beat_scheduler'))"
    )
    env = {**ENV, "CELERY_TOPOLOGY_FILE": str(CASE), "CELERY_TOPOLOGY_ENV": "maps"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split()[0] == "10800", out.stderr
    production = {**ENV, "CELERY_TOPOLOGY_FILE": str(ROOT / "topology.yaml"), "CELERY_TOPOLOGY_ENV": "production"}
    code = (
        "from celery import Celery; from celery_topology import configure; app = Celery('x'); configure(app); c = app.conf;"
        "print(c.beat_scheduler, c.beat_max_loop_interval, c.redbeat_lock_timeout, c.redbeat_key_prefix, c.redbeat_redis_url)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=production, timeout=120)
    assert out.stdout.split() == [
        "redbeat.schedulers:RedBeatScheduler",
        "15",
        "60",
        "redbeat:agentic_clinical_assistant.workers.celery_app:production:",
        "redis://localhost:6379/0",
    ], out.stderr
