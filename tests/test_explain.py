"""`route`, `show`, `graph` and the status judgement, on the project's topology and small ones: no broker needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from celery_topology import load
from celery_topology.cli import main
from celery_topology.cluster.assess import Observation, WorkerView, assess, node_pattern, pool_of
from celery_topology.render.mermaid import mermaid
from celery_topology.topology.brokerkeys import redis_queue_keys
from celery_topology.topology.explain import mask_url, route_info
from celery_topology.topology.model import Topology

from support import ROOT, MermaidParser

TOPOLOGY = ROOT / "topology.yaml"
AGENT_TASK = "agentic_clinical_assistant.workers.tasks.agent.run_intake_agent"


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load(TOPOLOGY, environ={})


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env=env).invoke(main, ["--file", str(TOPOLOGY), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:s3cret@host:6379/0", "redis://:***@host:6379/0"),
        ("amqp://guest:p%40ss@rabbit:5672//", "amqp://guest:***@rabbit:5672//"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("rediss://user:pw@h/1?ssl_cert_reqs=required", "rediss://user:***@h/1?ssl_cert_reqs=required"),
    ],
)
def test_mask_url_hides_only_the_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_route_text_names_pattern_queue_priority_retry_and_pool() -> None:
    code, out = run("route", "agentic_clinical_assistant.workers.tasks.ingestion.ingest_documents")
    assert code == 0
    assert out.splitlines() == [
        "task:      agentic_clinical_assistant.workers.tasks.ingestion.ingest_documents",
        "matched:   agentic_clinical_assistant.workers.tasks.ingestion.*",
        "queue:     ingestion",
        "priority:  5 (0..9, 9 most urgent)",
        "retry:     2 x 60s exponential (max 600s), on ConnectionError, TimeoutError",
        "limits:    1800s hard, 1500s soft",
        "pool:      ingestion as ingestion-worker@%h on every machine its unit is installed on",
    ]


def test_route_of_celerys_own_task_promises_no_retry(topology: Topology) -> None:
    code, out = run("route", "celery.backend_cleanup")
    assert code == 0
    assert "retry:     none: Celery's own task, retry policies do not apply" in out.splitlines()
    assert route_info(topology, "celery.backend_cleanup")["retry"] is None


def test_route_json_for_an_unrouted_task_is_the_default(topology: Topology) -> None:
    code, out = run("route", "somewhere.else", "--format", "json")
    assert code == 0
    assert '"pattern": null' in out and '"queue": "default"' in out
    assert route_info(topology, "somewhere.else")["pools"] == [
        {"pool": "default", "hostname": "default@%h", "hosts": []}
    ]


def test_route_info_agrees_with_the_router(topology: Topology) -> None:
    info = route_info(topology, AGENT_TASK)
    assert (info["pattern"], info["queue"], info["priority"]) == (
        "agentic_clinical_assistant.workers.tasks.agent.*",
        "agent",
        8,
    )
    assert info["retry"]["max_retries"] == 3 and info["pools"][0]["hostname"] == "agent-worker@%h"


def test_show_masks_the_password_and_lists_every_part() -> None:
    code, out = run("show", env={"CELERY_BROKER_URL": "redis://:canary-pw-41@db:6379/0"})
    assert code == 0
    assert "canary-pw-41" not in out and "broker: redis://:***@db:6379/0" in out
    for heading in ("QUEUES", "ROUTES", "POOLS", "DELIVERY", "BEAT (UTC)"):
        assert heading in out
    assert "evaluation  evaluation, benchmark  prefork  2     eval-worker@%h" in out
    assert "(anything else)" in out and "nightly-evaluation" in out


def test_graph_links_routes_queues_pools_hosts_and_beat(topology: Topology) -> None:
    text = mermaid(topology)
    assert text.startswith("flowchart LR\n")
    assert 'r0["agentic_clinical_assistant.workers.tasks.agent.*<br/>priority 8"] --> q1' in text
    assert 'b0>"beat nightly-evaluation<br/>0 2 * * *"] -.-> q3' in text
    assert "q3 --> p3" in text and "q4 --> p3" in text and "p3 --> h0" in text
    code, out = run("graph", "--fence")
    assert code == 0 and out.startswith("```mermaid\nflowchart LR\n") and out.endswith("```\n")


def test_graph_shows_beat_its_scheduler_and_hosts(tmp_path: Path, mermaid_parser: MermaidParser) -> None:
    """The one beat on its machine; redbeat's standbys on each of beat.hosts, failover noted; beat inside a pool."""
    plain = mermaid(load(ROOT / "topology.yaml", environ={}))
    assert 's0(["beat<br/>scheduler celery: a schedule file, one beat only"])\n  s0 --> h0\n' in plain
    production = mermaid(load(ROOT / "topology.yaml", environ={}, env="production"))
    assert 's0(["beat<br/>scheduler redbeat: locking, one sends, failover 75s"])' in production
    beat_hosts = re.findall(r"^  s0 --> (h[0-9]+)$", production, re.MULTILINE)
    host_nodes = dict(re.findall(r'^  (h[0-9]+)\{\{"([^"]+)"\}\}$', production, re.MULTILINE))
    assert [host_nodes[h] for h in beat_hosts] == ["worker-1", "worker-2"]
    path = tmp_path / "t.yaml"
    path.write_text(
        "version: 1\napp: a\nbroker: {url: 'redis://localhost:6379/0'}\nqueues: {default: {}}\n"
        "pools: {p_1: {queues: [default], hosts: [m1], beat: true}}\n"
        "beat: {scheduler: 'django', schedule: {tick: {task: a.tick, every: 60}}}\n"
    )
    embedded = mermaid(load(path, environ={}))
    assert 's0(["beat<br/>scheduler django: no lock, one beat only"])\n  s0 -.->|inside| p0\n  h0{{' in embedded
    for chart in (plain, production, embedded):
        assert mermaid_parser.parse(chart) == {"type": "flowchart-v2"}


def test_mermaid_parser_refuses_a_broken_graph(mermaid_parser: MermaidParser) -> None:
    """The checks with it can fail: the parser really parses (an unclosed label is a syntax error), and
    goes on answering after one chart failed."""
    assert mermaid_parser.parse("flowchart LR\n  a --> b\n") == {"type": "flowchart-v2"}
    assert "Parse error" in mermaid_parser.parse('flowchart LR\n  r0["x.[ab]*] --> q1\n')["error"]
    assert mermaid_parser.parse("flowchart LR\n  c --> d\n") == {"type": "flowchart-v2"}


@pytest.mark.parametrize("source", ["topology.yaml", "tests/data/large.yaml", "hostile"])
def test_graph_parses_as_mermaid(source: str, tmp_path: Path, mermaid_parser: MermaidParser) -> None:
    path = ROOT / source
    if source == "hostile":  # names with Mermaid's own punctuation in them
        path = tmp_path / "t.yaml"
        path.write_text(
            "version: 1\napp: a\nbroker: {url: 'memory://'}\nqueues: {default: {}, q-1: {}}\n"
            "routes: {'x.[ab]*': q-1, 'y.[!c]?-_': default}\n"
            "pools: {p_1: {queues: [default, q-1], hosts: [m1.example, m2]}}\n"
        )
    text = mermaid(load(path, environ={}))
    assert mermaid_parser.parse(text) == {"type": "flowchart-v2"}
    if source == "hostile":
        assert 'r0["x.[ab]*<br/>priority 5"] --> q1' in text
        assert 'h0{{"m1.example"}}' in text and 'h1{{"m2"}}' in text and "p0 --> h1" in text


@pytest.mark.parametrize(
    ("template", "host", "name", "matches"),
    [
        ("agent-worker@%h", None, "agent-worker@box.example", True),
        ("agent-worker@%h", None, "agent-worker2@box", False),
        ("agent-worker@%h", "box.example", "agent-worker@box.example", True),
        ("agent-worker@%h", "box.example", "agent-worker@other", False),
        ("w@%n.internal", "box.example", "w@box.internal", True),
        ("plainhost", None, "celery@plainhost", True),
    ],
)
def test_node_pattern_expands_like_celery(template: str, host: str | None, name: str, matches: bool) -> None:
    assert bool(node_pattern(template, host).fullmatch(name)) is matches


def test_pool_of_uses_the_default_hostname(topology: Topology) -> None:
    assert pool_of(topology, "default@box") == "default"
    assert pool_of(topology, "eval-worker@box") == "evaluation"
    assert pool_of(topology, "stray@box") is None


def test_redis_keys_are_kombus() -> None:
    assert redis_queue_keys("agent", {}) == ["agent", "agent\x06\x163", "agent\x06\x166", "agent\x06\x169"]
    options = {"priority_steps": [0, 9, 5], "sep": ":", "global_keyprefix": "app/"}
    assert redis_queue_keys("q", options) == ["app/q", "app/q:5", "app/q:9"]


def _view(name: str, *queues: str) -> WorkerView:
    return WorkerView(name=name, queues=queues)


def test_assess_names_each_kind_of_problem(topology: Topology) -> None:
    workers = [
        _view("default@h", "default"),
        _view("agent-worker@h", "agent", "ingestion"),  # also takes ingestion's queue
        _view("eval-worker@h", "evaluation"),  # misses benchmark
        _view("stray@h", "typo"),
    ]
    depths = {"default": 0, "agent": 0, "ingestion": 7, "evaluation": 0, "benchmark": 2}
    report = assess(topology, Observation("redis://x", {w.name: w for w in workers}, depths))
    assert not report["healthy"]
    assert {p: v["complete"] for p, v in report["pools"].items()} == {
        "default": True,
        "agent": False,
        "ingestion": False,
        "evaluation": False,
    }
    assert [f["message"] for f in report["findings"]] == [
        "pool 'agent': worker agent-worker@h also consumes ingestion, which the file gives to other pools",
        "pool 'ingestion': no worker online (expected ingestion-worker@%h)",
        "pool 'evaluation': worker eval-worker@h does not consume benchmark",
        "worker stray@h consumes undeclared queue(s) typo",
        "worker stray@h matches no pool's hostname",
        "queue 'benchmark': 2 waiting and no worker consumes it",
    ]


def test_explain_and_cli_imports_keep_celery_out() -> None:
    code = "import sys, celery_topology.cli, celery_topology.topology.explain, celery_topology.render.mermaid, celery_topology.cluster.assess; print('celery' in sys.modules or 'kombu' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_assess_says_when_a_stranded_queue_grew(topology: Topology) -> None:
    before = Observation("redis://x", {}, {"agent": 4})
    now = Observation("redis://x", {}, {"agent": 9})
    messages = [f["message"] for f in assess(topology, now, before)["findings"]]
    assert "queue 'agent': 9 waiting (was 4) and no worker consumes it" in messages


def test_assess_expects_a_worker_on_every_declared_host(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "version: 1\napp: a\nbroker: {url: 'memory://'}\nqueues: {default: {}}\n"
        "pools: {web: {queues: [default], hostname: 'web@%h', hosts: [m1.example, m2.example]}}\n"
    )
    topology = load(path)
    obs = Observation("memory://", {"web@m1.example": _view("web@m1.example", "default")}, {"default": 0})
    report = assess(topology, obs)
    assert report["pools"]["web"]["complete"] is False and report["pools"]["web"]["online"] == ["web@m1.example"]
    assert [f["message"] for f in report["findings"]] == ["pool 'web': no worker online on host 'm2.example'"]
    both = {name: _view(name, "default") for name in ("web@m1.example", "web@m2.example")}
    assert assess(topology, Observation("memory://", both, {"default": 0}))["healthy"] is True
