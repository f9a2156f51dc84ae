"""beat's schedule file goes where the service user can write it: `deploy.state_directory` (default
/var/lib/<name>), under systemd and supervisor alike, and the dev `make run-beat` keeps it out of the checkout.

Before, supervisor's beat wrote `celerybeat-schedule` into the working directory (PermissionError when
the service user cannot write there). Each beat here runs for real against a private redis-server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from supervisor.options import ServerOptions
from supervisor.process import Subprocess
from test_render_systemd import install, verify

from celery_topology import load
from celery_topology.render import render

from support import BIN, ROOT, Process, RedisServer, systemd_words, wait_for, worker_env


def topology_file(work: Path, **deploy: Any) -> Path:
    """The shipped topology (beat included), deployed from `work` with this venv's celery."""
    document = yaml.safe_load((ROOT / "topology.yaml").read_text())
    document["deploy"] = {"user": "nobody", "working_directory": str(work), "celery": str(BIN / "celery"), **deploy}
    path = work / "topology.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def beat_leaves_its_schedule_in(argv: list[str], cwd: Path, env: dict[str, str], state: Path) -> list[str]:
    """Run beat as the rendered file says until its schedule exists in `state`; what it wrote into `cwd`."""
    beat = Process(argv, cwd.parent / "beat.log", env=env, cwd=cwd)
    try:
        wait_for(lambda: list(state.glob("celerybeat-schedule*")), 120, f"beat's schedule in {state}")
    except TimeoutError:
        raise AssertionError(beat.output()[-3000:]) from None
    finally:
        beat.stop(timeout=60)
    return sorted(p.name for p in cwd.glob("celerybeat-schedule*"))


def test_supervisor_beat_writes_its_schedule_into_the_state_directory(tmp_path: Path, fresh_redis: RedisServer) -> None:
    work, state = tmp_path / "work", tmp_path / "state"
    work.mkdir()
    state.mkdir()
    path = topology_file(work, state_directory=str(state))
    (rendered,) = render(load(path, environ={}), "supervisor", "topology.yaml")
    conf = tmp_path / "supervisord.conf"
    conf.write_text(f"[supervisord]\nlogfile={tmp_path}/supervisord.log\n\n[include]\nfiles={tmp_path}/*.conf.inc\n")
    (tmp_path / "programs.conf.inc").write_text(rendered.text)
    options = ServerOptions()
    options.configfile = str(conf)
    options.process_config(do_usage=False)
    (beat,) = [p for g in options.process_group_configs for p in g.process_configs if p.name.endswith("-beat")]
    _, argv = Subprocess(beat).get_execv_args()
    assert f"install -d -o nobody -m 0700 {state}\n" in rendered.text  # what the operator does once
    written = beat_leaves_its_schedule_in(argv, Path(beat.directory), worker_env(fresh_redis.url, path), state)
    assert written == []  # nothing in the working directory, which the service user may not write


def test_systemd_beat_uses_the_state_directory(tmp_path: Path, fresh_redis: RedisServer) -> None:
    work = tmp_path / "work"
    work.mkdir()
    units = {f.path: f.text for f in render(load(topology_file(work), environ={}), "systemd", "topology.yaml")}
    unit = units["agentic-clinical-assistant-beat.service"]
    assert "\nStateDirectory=agentic-clinical-assistant\n" in unit  # systemd creates it, owned by User=
    argv = systemd_words(unit, "ExecStart")
    assert argv[-1] == "--schedule=/var/lib/agentic-clinical-assistant/celerybeat-schedule"
    state = tmp_path / "var-lib"  # what systemd would mount there; the unit's own path needs root
    state.mkdir()
    argv[-1] = f"--schedule={state}/celerybeat-schedule"
    env = worker_env(fresh_redis.url, work / "topology.yaml")
    assert beat_leaves_its_schedule_in(argv, Path(systemd_words(unit, "WorkingDirectory")[0]), env, state) == []


@pytest.mark.parametrize(
    ("directory", "lines"),
    [
        ("/var/lib/acme/beat", ["StateDirectory=acme/beat", "StateDirectoryMode=0700"]),
        ("/srv/acme/state", ["ReadWritePaths=/srv/acme/state"]),
    ],
)
def test_systemd_state_directory_inside_or_outside_var_lib(tmp_path: Path, directory: str, lines: list[str]) -> None:
    topology = load(topology_file(tmp_path, user="celery", state_directory=directory), environ={})
    files = render(topology, "systemd", "topology.yaml")
    (beat,) = [f for f in files if f.path.endswith("-beat.service")]
    assert [line for line in beat.text.splitlines() if line.startswith(("StateDirectory", "ReadWritePaths"))] == lines
    assert f"--schedule={directory}/celerybeat-schedule" in beat.text
    result = verify(tmp_path / "root", install(tmp_path / "root", files))
    assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr


def test_make_run_beat_keeps_its_schedule_out_of_the_checkout(tmp_path: Path, fresh_redis: RedisServer) -> None:
    ignored = subprocess.run(["git", "check-ignore", "celerybeat-schedule", "celerybeat-schedule.db"], cwd=ROOT)
    assert ignored.returncode == 0  # what a plain `celery beat` leaves in the checkout is ignored
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    env = worker_env(fresh_redis.url, ROOT / "topology.yaml", XDG_STATE_HOME=str(tmp_path / "state"))
    state = tmp_path / "state" / "celery-topology" / "agentic-clinical-assistant"
    argv = [sys.executable, str(ROOT / "scripts" / "run_beat.py")]
    assert beat_leaves_its_schedule_in(argv, cwd, env, state) == []
