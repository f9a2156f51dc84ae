"""`render prometheus`: rules that Prometheus' own promtool accepts, and unit tests (promtool test rules)
that show each alert firing at its threshold plus its `for:`, not before."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from celery_topology import load
from celery_topology.render import render
from celery_topology.render.prometheus import alerts
from celery_topology.topology.digest import checksum

from support import ROOT, run_cli

PROMTOOL = shutil.which("promtool")
TOPOLOGY = """\
version: 1
app: shop.app
broker: {url: "${CELERY_BROKER_URL:-redis://localhost:6379/0}"}
defaults: {max_wait: 10m, alert_for: 3m}
queues:
  default: {}
  high: {max_wait: 2m, max_depth: 500}
  builds_q: {max_depth: 20}
pools:
  web: {queues: [default, high], hosts: [a, b]}
  builds: {queues: [builds_q], min_workers: 3}
  spare: {queues: [default], min_workers: 0}
"""
START = 5  # minute the breach starts in every test series
STEPS = 20  # minutes of series


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    (tmp_path / "topology.yaml").write_text(TOPOLOGY)
    done = run_cli("--file", "topology.yaml", "render", "prometheus", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is not installed (Debian package prometheus; .ci/run installs it)"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_promtool_checks_the_rules(rendered: Path) -> None:
    out = rendered / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "shop-dashboard.json",
        "shop-prometheusrule.yaml",
        "shop.rules.yml",
    ]
    done = promtool("check", "rules", "shop.rules.yml", cwd=out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 12 rules found" in done.stdout
    rules = yaml.safe_load((out / "shop.rules.yml").read_text())
    operator = yaml.safe_load((out / "shop-prometheusrule.yaml").read_text())
    assert (operator["apiVersion"], operator["kind"], operator["metadata"]["name"]) == (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        "shop",
    )
    assert operator["spec"]["groups"] == rules["groups"]  # the same rules, for the Prometheus Operator
    exprs = {(r["alert"], r["expr"], r["for"]) for r in rules["groups"][0]["rules"]}
    assert (
        "CeleryQueueWaitTooLong",
        'celery_topology_queue_oldest_age_seconds{queue="high"} > 120',
        "3m",
    ) in exprs
    assert ("CeleryQueueWaitTooLong", 'celery_topology_queue_oldest_age_seconds{queue="default"} > 600', "3m") in exprs
    assert ("CeleryQueueTooDeep", 'celery_topology_queue_depth{queue="builds_q"} > 20', "3m") in exprs
    assert ("CeleryPoolBelowMinWorkers", 'celery_topology_pool_workers{pool="web"} < 2', "3m") in exprs  # its 2 hosts
    assert ("CeleryPoolBelowMinWorkers", 'celery_topology_pool_workers{pool="builds"} < 3', "3m") in exprs
    assert not [e for e in exprs if 'pool="spare"' in e[1]]  # min_workers 0: may be down
    runbook = next(r for r in rules["groups"][0]["rules"] if 'pool="builds"' in r["expr"])["annotations"]["runbook"]
    assert "celery-topology --file topology.yaml status" in runbook and "pool builds" in runbook
    assert "shop-worker-builds.service" in runbook
    dead = next(
        r for r in rules["groups"][0]["rules"] if r["expr"].startswith('celery_topology_dead_letters{queue="builds_q"}')
    )
    assert "celery-topology --file topology.yaml dead list --queue builds_q" in dead["annotations"]["runbook"]
    board = json.loads((out / "shop-dashboard.json").read_text())
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["pool web: default, high", "pool builds: builds_q", "pool spare: default"]
    check = run_cli("--file", "topology.yaml", "render", "prometheus", "-o", "out", "--check", cwd=rendered)
    assert check.returncode == 0, check.stdout + check.stderr


def _series(alert: dict[str, Any], digest: str) -> list[dict[str, str]]:
    """A series that is fine until minute START and breaches the rule's threshold by the least step from then on."""
    expr: str = alert["expr"]
    selector, op, value = expr.rsplit(" ", 2)
    threshold = int(value)
    if "checksum!=" in selector:  # another file's checksum shows up at START
        return [
            {"series": f'celery_topology_info{{checksum="{digest}"}}', "values": f"1x{START - 1}"},
            {"series": 'celery_topology_info{checksum="0000000000000000"}', "values": f"_x{START} 1x{STEPS}"},
        ]
    fine, bad = {">": (threshold, threshold + 1), "<": (threshold, threshold - 1), "==": (1, 0)}[op]
    return [{"series": selector, "values": " ".join([str(fine)] * START + [str(bad)] * STEPS)}]


def test_each_alert_fires_at_threshold_plus_for_not_before(rendered: Path) -> None:
    topology = load(rendered / "topology.yaml", environ={})
    rules = yaml.safe_load((rendered / "out" / "shop.rules.yml").read_text())["groups"][0]["rules"]
    assert len(rules) == len(alerts(topology, "topology.yaml")) == 12
    wait = 3  # minutes: defaults.alert_for
    tests = []
    for rule in rules:
        firing = [{"exp_labels": dict(rule["labels"]), "exp_annotations": dict(rule["annotations"])}]
        if "checksum!=" in rule["expr"]:
            firing[0]["exp_labels"]["checksum"] = "0000000000000000"
        else:
            firing[0]["exp_labels"].update(_labels_of(rule["expr"]))
        tests.append(
            {
                "interval": "1m",
                "input_series": _series(rule, checksum(topology)),
                "alert_rule_test": [
                    {"eval_time": f"{START - 1}m", "alertname": rule["alert"], "exp_alerts": []},
                    {"eval_time": f"{START + wait - 1}m", "alertname": rule["alert"], "exp_alerts": []},  # pending
                    {"eval_time": f"{START + wait}m", "alertname": rule["alert"], "exp_alerts": firing},
                ],
            }
        )
    (rendered / "out" / "tests.yml").write_text(
        yaml.safe_dump({"rule_files": ["shop.rules.yml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    done = promtool("test", "rules", "tests.yml", cwd=rendered / "out")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _labels_of(expr: str) -> dict[str, str]:
    """The label matcher of a rule's selector, `{queue="x"}` -> {"queue": "x"}."""
    inside = expr[expr.index("{") + 1 : expr.index("}")] if "{" in expr else ""
    return {k: json.loads(v) for k, v in (pair.split("=", 1) for pair in inside.split(",") if pair)}


def test_a_unit_test_that_fires_too_early_fails(rendered: Path) -> None:
    """The promtool run above can fail: the same firing expected one evaluation before `for:` is refused."""
    rule = yaml.safe_load((rendered / "out" / "shop.rules.yml").read_text())["groups"][0]["rules"][0]
    firing = [{"exp_labels": {**rule["labels"], **_labels_of(rule["expr"])}}]
    test = {
        "interval": "1m",
        "input_series": _series(rule, ""),
        "alert_rule_test": [{"eval_time": f"{START + 2}m", "alertname": rule["alert"], "exp_alerts": firing}],
    }
    (rendered / "out" / "early.yml").write_text(yaml.safe_dump({"rule_files": ["shop.rules.yml"], "tests": [test]}))
    done = promtool("test", "rules", "early.yml", cwd=rendered / "out")
    assert done.returncode == 1 and "FAILED" in done.stdout + done.stderr


def test_rabbitmq_gets_no_wait_rules_and_every_host_the_same_files(tmp_path: Path) -> None:
    environ = {"CELERY_BROKER_URL": "amqp://127.0.0.1:5672//"}
    files = {
        f.path: f.text for f in render(load(ROOT / "topology.yaml", environ=environ), "prometheus", "topology.yaml")
    }
    rules = files["agentic-clinical-assistant.rules.yml"]
    assert "CeleryQueueWaitTooLong" not in rules and "No wait rules: the broker is not Redis" in rules
    large = load(ROOT / "tests/data/large.yaml", environ={})
    whole = render(large, "prometheus", "large.yaml")
    assert render(large, "prometheus", "large.yaml", host="app-1") == whole  # the rules cover the whole cluster
