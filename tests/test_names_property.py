"""Hostile but legal names (dots, colons, %, $, quotes, ; and #, spaces in beat names, 200 characters)
rendered into every target and read back by that target's own parser give the original names, and
nothing else: systemd (`systemd-analyze verify`, then the ExecStart words), supervisor (its own
config parser and command splitter), JSON (`route --format json`), Redis keys (kombu's priority
lists), Mermaid (mermaid's own parser, one line per node, labels decoded) and Celery's beat schedule."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from supervisor.process import Subprocess
from test_render_run import for_this_machine, parsed_programs, supervisord_conf
from test_render_systemd import install, verify

from celery_topology import celery_settings, load
from celery_topology.render import render
from celery_topology.render.mermaid import mermaid
from celery_topology.topology.brokerkeys import redis_queue_keys

from support import MermaidParser, run_cli, systemd_words

QUEUE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in ",\\")
HOSTILE = "%$'\";#:.@`&|<>(){}*?![]="
LONG_QUEUE = "q." * 99 + "zz"  # 200 characters
queue_names = st.one_of(
    st.text(alphabet=QUEUE_CHARS, min_size=1, max_size=200),
    st.text(alphabet="ab.:" + HOSTILE, min_size=1, max_size=12),
    st.just(LONG_QUEUE),
).filter(lambda q: not q.startswith("amq.") and "${" not in q)
beat_names = st.text(alphabet=st.sampled_from([*QUEUE_CHARS, " ", ",", "\\", "é", "€"]), min_size=1, max_size=200)
part = st.lists(st.one_of(st.sampled_from("aZ09_.-"), st.sampled_from(["%h", "%n", "%d", "%i", "%I"])), min_size=1)
hostnames = st.tuples(part, st.one_of(st.none(), part)).map(
    lambda p: "".join(p[0]) + ("@" + "".join(p[1]) if p[1] else "")
)
hostnames = hostnames.filter(lambda h: h[0] not in "-." and len(h) <= 200)
pool_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
NODE = re.compile(r'^  ([a-z][0-9]+)[\[(>{]*"([^"\n]*)"', re.MULTILINE)  # a node's id and its quoted label
ENTITIES = {"35": "#", "quot": '"', "lt": "<", "gt": ">", "amp": "&", "96": "`"}


def decode(text: str) -> str:
    """A Mermaid label's text with its entity codes (`#quot;`, `#35;`...) read back."""
    return re.sub(r"#(\w+);", lambda m: ENTITIES[m.group(1)], text)


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ct-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        yield directory


def document(queues: list[str], beats: list[str], hostname: str, pool: str) -> dict[str, Any]:
    return {
        "version": 1,
        "app": "shop.app",
        "broker": {"url": "redis://localhost:6379/0"},
        "defaults": {"queue": queues[0]},
        "queues": {q: {} for q in queues},
        "routes": {"shop.tasks.*": queues[-1]},
        "pools": {pool: {"queues": queues, "hostname": hostname}},
        "beat": {"schedule": {b: {"task": "shop.tasks.tick", "every": 60, "queue": queues[0]} for b in beats}},
        "deploy": {"working_directory": "/srv/shop", "celery": "/srv/shop/.venv/bin/celery"},
    }


class Quoted(yaml.SafeDumper):
    """Every string double-quoted, so that none reads as YAML 1.1's `N` or `no` (the loader refuses those)."""


Quoted.add_representer(str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"'))


def option(argv: list[str] | tuple[str, ...], name: str) -> str:
    (value,) = [word.split("=", 1)[1] for word in argv if word.startswith(f"--{name}=")]
    return value


@SETTINGS
@example(
    queues=["edx.lms.core.default", "build:large", "50%$HOME", 'it\'s"q";#x', "`md`", LONG_QUEUE],
    beats=["poll SES account reputation", "a" * 200],
    hostname="worker_a.%h",
    pool="w.1",
)
@given(
    queues=st.lists(queue_names, min_size=1, max_size=4, unique=True),
    beats=st.lists(beat_names, min_size=1, max_size=3, unique=True),
    hostname=hostnames,
    pool=pool_names,
)
def test_names_survive_every_target(
    workdir: Path, mermaid_parser: MermaidParser, queues: list[str], beats: list[str], hostname: str, pool: str
) -> None:
    path = workdir / "topology.yaml"
    path.write_text(
        yaml.dump(document(queues, beats, hostname, pool), Dumper=Quoted, allow_unicode=True, sort_keys=False)
    )
    topology = load(path, environ={})
    assert list(topology.queues) == queues and list(topology.beat.schedule) == beats  # type: ignore[union-attr]

    # systemd: the units pass systemd's own checker, and ExecStart's words give back the names.
    root = workdir / "root"
    units = render(topology, "systemd", "topology.yaml")
    result = verify(root, install(root, units))
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr
    (worker,) = [u for u in units if u.path.endswith(f"-worker-{pool}.service")]
    words = systemd_words(worker.text, "ExecStart")
    assert option(words, "queues").split(",") == queues
    assert option(words, "hostname") == hostname

    # supervisor: its own parser and command splitter give back the same words.
    local = for_this_machine(topology, workdir)
    (conf,) = render(local, "supervisor", "topology.yaml")
    include = workdir / conf.path
    include.write_text(conf.text)
    (program,) = [p for name, p in parsed_programs(supervisord_conf(workdir, include)).items() if "worker" in name]
    _exe, argv = Subprocess(program).get_execv_args()
    assert option(argv, "queues").split(",") == queues and option(argv, "hostname") == hostname

    # JSON: what `route` prints parses back to the names.
    printed = run_cli("--file", path, "route", "shop.tasks.send", "--format", "json", env={"PATH": "/usr/bin:/bin"})
    answer = json.loads(printed.stdout)
    assert (answer["queue"], answer["pools"][0]["pool"], answer["pools"][0]["hostname"]) == (queues[-1], pool, hostname)

    # Redis: kombu's list for each priority step is the queue's name, then the separator and the step.
    config = celery_settings(topology)
    for queue in queues:
        keys = redis_queue_keys(queue, config["broker_transport_options"])
        assert keys[0] == queue and all(k == f"{queue}\x06\x16{k[-1]}" for k in keys[1:])

    # Mermaid: its own parser accepts the chart, one line per node or edge, each node's label decodes to its names.
    chart = mermaid(topology)
    assert mermaid_parser.parse(chart) == {"type": "flowchart-v2"}
    assert len(chart.splitlines()) == 1 + 2 + len(beats) + len(queues) + 1 + len(queues) + 1 + 2 + 1
    nodes = {node: [decode(part) for part in label.split("<br/>")] for node, label in NODE.findall(chart)}
    assert [nodes[f"q{i}"] for i in range(len(queues))] == [[q] for q in queues]
    assert [nodes[f"b{i}"][0] for i in range(len(beats))] == [f"beat {b}" for b in beats]
    assert nodes["p0"][0] == f"pool {pool}" and nodes["p0"][1].startswith(f"{hostname} x")
    assert nodes["s0"] == ["beat", "scheduler celery: a schedule file, one beat only"]

    # Celery: the beat schedule carries every name as written.
    assert list(config["beat_schedule"]) == beats
