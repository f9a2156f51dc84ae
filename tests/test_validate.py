"""`celery-topology validate` and `schema`, run as the installed console script on real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, ValidationError

from celery_topology import TopologyError, load

from support import BIN, ROOT, run_cli

DATA = Path(__file__).parent / "data"
INVALID = sorted((DATA / "invalid").glob("*.yaml"))
VALID = sorted((DATA / "valid").glob("*.yaml"))
PASSWORD = "Hunter2Secret"  # the literal password the corpus writes; it must never be echoed
# The corpus runs without its ${TOPOLOGY_TEST_*} variables, whatever the caller's environment holds.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TOPOLOGY_TEST_")}
ENV.pop("CELERY_TOPOLOGY_FILE", None)


def test_shipped_topology_is_valid() -> None:
    topology = load(ROOT / "topology.yaml", environ={})
    assert list(topology.queues) == ["default", "agent", "ingestion", "evaluation", "benchmark"]
    assert topology.pools["agent"].concurrency == 8
    assert topology.defaults.retry is not None and topology.defaults.retry.delay == 60
    result = run_cli("validate", env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "topology.yaml: valid: 5 queues, 3 routes, 4 pools, 1 beat entry, 2 environments\n"


def test_corpus_is_big_enough() -> None:
    assert len(INVALID) >= 40
    assert all(case.with_suffix(".expected").is_file() for case in INVALID + VALID)


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_topology_is_refused_with_exact_text(case: Path) -> None:
    result = run_cli("--file", case.name, "validate", cwd=case.parent, env=ENV)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == case.with_suffix(".expected").read_text()
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.stem)
def test_valid_variant_passes_with_its_warnings(case: Path) -> None:
    result = run_cli("--file", case.name, "validate", cwd=case.parent, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == case.with_suffix(".expected").read_text()
    # --strict: the same report, and exit 1 exactly when it holds a warning.
    strict = run_cli("--file", case.name, "validate", "--strict", cwd=case.parent, env=ENV)
    assert strict.stdout == result.stdout
    assert strict.returncode == (1 if ": warning: " in result.stdout else 0), strict.stderr


def test_corpus_covers_every_problem_code() -> None:
    """Each code the loader and the semantic checks can emit is pinned by at least one corpus file."""
    package = ROOT / "celery_topology" / "topology"
    sources = "".join(
        (package / name).read_text()
        for name in (
            "checks.py",
            "checks_real.py",
            "credentials.py",
            "loader.py",
            "env.py",
            "validate.py",
            "document.py",
            "beatlock.py",
            "environments.py",
            "kubechecks.py",
        )
    )
    emitted = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', sources))
    emitted -= {"file-unreadable", "env-file"}  # pinned by test_missing_file and test_loader_env.py
    expected = "".join(p.with_suffix(".expected").read_text() for p in INVALID + VALID)
    pinned = set(re.findall(r"\[([a-z-]+)\]$", expected, re.MULTILINE))
    assert emitted - pinned == set()


def test_literal_password_is_reported_but_never_echoed() -> None:
    case = DATA / "invalid" / "literal-credentials.yaml"
    assert PASSWORD in case.read_text()
    for fmt in ("text", "json"):
        result = run_cli("--file", case, "validate", "--format", fmt, env=ENV)
        assert result.returncode == 1
        assert "literal-credentials" in result.stdout
        assert PASSWORD not in result.stdout + result.stderr


def test_missing_file(tmp_path: Path) -> None:
    """The absolute path that was looked at, and the two ways to name another file."""
    for args in (["--file", "no-such-topology.yaml", "validate"], ["validate", "-f", "no-such-topology.yaml"]):
        result = run_cli(*args, env=ENV, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stdout == (
            f"no-such-topology.yaml: cannot read the file: {tmp_path / 'no-such-topology.yaml'} does not exist;"
            " name another with --file PATH or the CELERY_TOPOLOGY_FILE environment variable [file-unreadable]\n"
        )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "topology.yaml"
    bad.write_text(
        "version: 1\n"
        "app: my.app\n"
        "broker: {url: 'redis://localhost/0'}\n"
        "queues: {default: {}}\n"
        "pools:\n"
        "  default: {queues: [default], concurency: 2}\n"
        "  other: {queues: [default], pool: proc}\n"
    )
    result = run_cli("validate", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "topology.yaml:6:32: pools.default.concurency: unknown key 'concurency' (did you mean 'concurrency'?) [unknown-key]",
        "topology.yaml:7:36: pools.other.pool: must be 'prefork', 'threads', 'solo', 'gevent' or 'eventlet' [value]",
    ]
    with pytest.raises(TopologyError) as raised:
        load(bad)
    assert [p.code for p in raised.value.problems] == ["unknown-key", "value"]


def test_format_json() -> None:
    ok = run_cli("validate", "--format", "json", env=ENV)
    assert ok.returncode == 0
    assert json.loads(ok.stdout) == {"file": "topology.yaml", "valid": True, "problems": []}
    case = DATA / "invalid" / "soft-limit.yaml"
    bad = run_cli("--file", case.name, "validate", "--format", "json", cwd=case.parent, env=ENV)
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["valid"] is False
    assert report["problems"][0] == {
        "file": "soft-limit.yaml",
        "line": 9,
        "col": 20,
        "path": "defaults.soft_time_limit",
        "message": "soft_time_limit (300s) must be below time_limit (300s); lower it",
        "code": "soft-limit",
        "severity": "error",
    }
    assert [p["line"] for p in report["problems"]] == [9, 13, 18]


@pytest.mark.parametrize(
    "args",
    [("validate", "--format", "xml"), ("validate", "--bogus"), ("no-such-command",), ("--file",)],
    ids=["bad-choice", "bad-option", "bad-command", "missing-value"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run_cli(*args, env=ENV)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_does_not_import_celery() -> None:
    """The console script itself, under -X importtime: no celery or kombu, nor other commands' libraries."""
    argv = [sys.executable, "-X", "importtime", str(BIN / "celery-topology"), "validate"]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "celery_topology.topology.validate" in imported  # the probe sees our own modules
    heavy = ("celery", "kombu", "billiard", "amqp", "jinja2", "starlette", "uvicorn")
    assert {m for m in imported if m.split(".")[0] in heavy} == set()


def test_schema_command_matches_committed_file() -> None:
    result = run_cli("schema", env=ENV)
    assert result.returncode == 0
    assert result.stdout == (ROOT / "topology.schema.json").read_text(), (
        "regenerate: .venv/bin/celery-topology schema > topology.schema.json"
    )
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "app", "broker", "queues", "pools"]


def test_shipped_topology_fits_the_schema() -> None:
    """What editors see: the shipped file is valid against the schema, a broken one is not (jsonschema, draft 2020-12)."""
    shipped = (ROOT / "topology.yaml").read_text()
    assert shipped.startswith("# yaml-language-server: $schema=./topology.schema.json\n")
    validator = Draft202012Validator(json.loads((ROOT / "topology.schema.json").read_text()))
    assert [e.message for e in validator.iter_errors(yaml.safe_load(shipped))] == []
    broken = yaml.safe_load((DATA / "invalid" / "many-at-once.yaml").read_text())
    assert "pools.default.concurency" in {
        ".".join(map(str, e.absolute_path)) + "." + str(k) for e in validator.iter_errors(broken) for k in _extra(e)
    }
    wrong = yaml.safe_load(shipped)
    wrong["broker"]["visibility_timeout"] = "2 hours"
    wrong["pools"]["agent"]["hostname"] = "agent worker@%h"
    paths = sorted(".".join(map(str, e.absolute_path)) for e in validator.iter_errors(wrong))
    assert paths == ["broker.visibility_timeout", "pools.agent.hostname"]


def _extra(error: ValidationError) -> list[str]:
    """The unknown keys an `additionalProperties: false` error names."""
    return re.findall(r"'([^']+)' was unexpected", error.message) if error.validator == "additionalProperties" else []
