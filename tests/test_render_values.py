"""Names and values that could break a unit file or a command line are refused before anything is rendered."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from celery_topology import TopologyError, load
from celery_topology.cli import main
from celery_topology.render import RenderError
from celery_topology.render.jinja import supervisor, systemd
from celery_topology.topology.validate import check

from support import ROOT

BASE = yaml.safe_load((ROOT / "tests/data/large.yaml").read_text())
BAD = ["a\nb", "a%b", "a$b", "a;b", 'a"b', "a'b", "a b", "../x"]
# Queue names take what Celery and the brokers take (%, $, ;, quotes: each output escapes them, see
# test_names_property.py); what is refused is what splits `-Q` or a line, and RabbitMQ's amq. prefix.
BAD_QUEUE = ["a\nb", "a b", "a,b", "amq.x", "a\\b", "q" * 201]
# Where each value lands in a rendered file, as a path into the document.
VALUE_FIELDS = [
    ("app",),
    ("deploy", "name"),
    ("deploy", "user"),
    ("deploy", "group"),
    ("deploy", "working_directory"),
    ("deploy", "celery"),
    ("deploy", "environment_file"),
    ("deploy", "topology_file"),
    ("deploy", "hardening", "read_write_paths", 0),
    ("deploy", "flower", "address"),
    ("pools", "mail", "hostname"),
    ("pools", "mail", "hosts", 0),
]
PATH_FIELDS = [p for p in VALUE_FIELDS if p[0] == "deploy" and p[1] not in ("name", "user", "group", "flower")]


def refused(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    """The dotted paths of the errors found; fails if the topology is accepted."""
    file = tmp_path / "t.yaml"
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(TopologyError) as caught:
        load(file, environ={})
    return [p.path for p in caught.value.problems if p.severity == "error"]


def put(document: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("path", VALUE_FIELDS, ids=lambda p: ".".join(map(str, p)))
def test_a_dangerous_value_is_refused(tmp_path: Path, path: tuple[str | int, ...], bad: str) -> None:
    if path == ("deploy", "celery") and bad == "a b":
        bad = "a  b"  # `/srv/a b` is a command of two words since deploy.celery takes commands
    value = f"/srv/{bad}" if path in PATH_FIELDS else bad
    errors = refused(tmp_path, put(BASE, path, value))
    dotted = ".".join(str(p) for p in path).replace(".0", "[0]")
    assert any(e.startswith(dotted) for e in errors), errors


@pytest.mark.parametrize("bad", BAD_QUEUE, ids=repr)
def test_a_dangerous_queue_is_refused(tmp_path: Path, bad: str) -> None:
    errors = refused(tmp_path, put(BASE, ("pools", "mail", "queues", 0), bad))
    assert "pools.mail.queues[0]" in errors, errors


@pytest.mark.parametrize(
    ("section", "bad"), [("pools", bad) for bad in BAD] + [("queues", bad) for bad in BAD_QUEUE], ids=repr
)
def test_a_dangerous_name_is_refused(tmp_path: Path, section: str, bad: str) -> None:
    document = copy.deepcopy(BASE)
    document[section][bad] = copy.deepcopy(document[section]["default"])
    assert any(e.startswith(f"{section}.") for e in refused(tmp_path, document))


@pytest.mark.parametrize(
    "path",
    ["/srv/app/../../etc", "/srv/./app", "/.."],
)
def test_dot_segments_in_deploy_paths_are_refused(tmp_path: Path, path: str) -> None:
    assert refused(tmp_path, put(BASE, ("deploy", "working_directory"), path)) == ["deploy.working_directory"]


def test_nothing_is_rendered_from_a_refused_topology(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(yaml.safe_dump(put(BASE, ("pools", "mail", "hostname"), "mail@%h; rm -rf /"), sort_keys=False))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["--file", str(file), "render", "systemd", "-o", str(out)])
    assert result.exit_code == 1
    assert "pools.mail.hostname: ';' is not allowed in a worker hostname" in result.output
    assert not out.exists()


@pytest.mark.parametrize("escape", [systemd, supervisor])
@pytest.mark.parametrize("bad", ["a\nb", "a\\b", "a\x00b"], ids=repr)
def test_the_filters_refuse_what_they_cannot_write(escape: Any, bad: str) -> None:
    with pytest.raises(RenderError):
        escape(bad)
    with pytest.raises(RenderError):
        escape(["/bin/celery", bad])


def test_the_filters_escape_percent_dollar_and_blanks() -> None:
    assert systemd("a@%h") == "a@%%h"
    assert systemd(["/bin/x", "-n", "a@%h", "$HOME", "two words", 'say "hi"']) == (
        '/bin/x -n a@%%h $$HOME "two words" "say \\"hi\\""'
    )
    assert supervisor(["/bin/x", "-n", "a@%h", "two words"]) == "/bin/x -n a@%%h 'two words'"
    # configparser cuts an inline comment only after a blank: `;` and `#` inside a word (a queue name) stay.
    assert supervisor(["/bin/x", "--queues=a;b,c#d"]) == "/bin/x '--queues=a;b,c#d'"
    for bad in ("a ;b", "a #b"):
        with pytest.raises(RenderError):
            supervisor(bad)


def test_time_limits_on_a_pool_that_cannot_enforce_them_are_a_warning(tmp_path: Path) -> None:
    document = put(BASE, ("pools", "mail", "time_limit"), "5m")
    file = tmp_path / "t.yaml"
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    topology, problems = check(file, environ={})
    assert topology is not None
    (warning,) = [p for p in problems if p.code == "time-limit-unenforced"]
    assert (warning.path, warning.severity) == ("pools.mail.time_limit", "warning")
    assert warning.message.startswith("the threads pool does not enforce time_limit (only prefork and gevent do)")
