"""Rendered supervisor config through supervisor's own parser, and the rendered units run for real.

The live tests run supervisord (as the current user, with its own socket and pidfile in a temporary
directory) against a private redis-server; the programs run as the current user too (see without_user).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from celery import Celery
from celery.utils.nodenames import default_nodename, host_format
from supervisor.options import ServerOptions
from supervisor.process import Subprocess

from celery_topology import Topology, load
from celery_topology.render import render
from celery_topology.render.jinja import template_root
from celery_topology.render.plan import Program, build

from support import BIN, EXAMPLES, ROOT, Process, RedisServer, systemd_words, wait_for, worker_env

SERVICE_USER = "nobody"  # a user that exists, so supervisor's parser resolves the rendered user=


def for_this_machine(topology: Topology, workdir: Path) -> Topology:
    """The topology with deploy pointing at this venv's celery, a scratch directory and an existing user."""
    assert topology.deploy is not None
    deploy = topology.deploy.model_copy(
        update={"celery": str(BIN / "celery"), "user": SERVICE_USER, "group": None, "working_directory": str(workdir)}
    )
    return topology.model_copy(update={"deploy": deploy})


def supervisord_conf(directory: Path, include: Path) -> Path:
    """A private supervisord.conf: own socket, pidfile and logs in `directory`, including `include`."""
    (directory / "logs").mkdir(exist_ok=True)
    conf = directory / "supervisord.conf"
    conf.write_text(
        f"[unix_http_server]\nfile={directory}/supervisor.sock\nchmod=0700\n\n"
        f"[supervisord]\nlogfile={directory}/supervisord.log\npidfile={directory}/supervisord.pid\n"
        f"childlogdir={directory}/logs\nnodaemon=true\n\n"
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{directory}/supervisor.sock\n\n"
        f"[include]\nfiles={include}\n"
    )
    return conf


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A world-readable scratch directory with a short path (unix socket paths are limited to 108 bytes)."""
    with tempfile.TemporaryDirectory(prefix="ct-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        yield directory


def parsed_programs(conf: Path) -> dict[str, object]:
    options = ServerOptions()
    options.configfile = str(conf)
    options.process_config(do_usage=False)
    return {p.name: p for group in options.process_group_configs for p in group.process_configs}


@pytest.mark.parametrize("source", ["topology.yaml", "tests/data/large.yaml"])
def test_supervisor_parses_the_config_and_each_command_round_trips(short_dir: Path, source: str) -> None:
    topology = for_this_machine(load(ROOT / source, environ={}), short_dir)
    (rendered,) = render(topology, "supervisor", source)
    include = short_dir / rendered.path
    include.write_text(rendered.text)
    programs = parsed_programs(supervisord_conf(short_dir, include))
    plan = build(topology)
    intended: dict[str, Program] = {p.name: p for p in plan.programs}
    assert any("@%h" in word for p in plan.programs for word in p.argv)  # a % that supervisor must not expand
    assert sorted(programs) == sorted(intended)
    for name, config in programs.items():
        program = intended[name]
        _filename, argv = Subprocess(config).get_execv_args()
        assert tuple(argv) == program.argv
        assert (config.stopsignal, config.stopasgroup, config.killasgroup) == (signal.SIGTERM, False, True)  # type: ignore[attr-defined]
        assert config.stopwaitsecs == program.stop_timeout  # type: ignore[attr-defined]
        assert config.uid == pwd.getpwnam(SERVICE_USER).pw_uid  # type: ignore[attr-defined]
        assert config.environment == {"CELERY_TOPOLOGY_FILE": plan.topology_file}  # type: ignore[attr-defined]
        assert config.autorestart is not False  # type: ignore[attr-defined]


# --- live: the rendered units run real workers against a private redis-server ---------------------------


@pytest.fixture
def live(short_dir: Path, fresh_redis: RedisServer) -> LiveTopology:
    """The shipped topology, small, run from a scratch directory; the broker URL only in `.env`."""
    work = short_dir / "work"
    work.mkdir()
    document = yaml.safe_load((ROOT / "topology.yaml").read_text())
    document["app"] = "render_tasks:app"
    for name, pool in document["pools"].items():
        pool["concurrency"] = 2 if name == "default" else 1
    (work / "state").mkdir()  # deploy.state_directory: supervisor does not create it
    document["deploy"] = {"user": SERVICE_USER, "working_directory": str(work), "celery": str(BIN / "celery")}
    document["deploy"]["state_directory"] = str(work / "state")
    (work / "topology.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    (work / ".env").write_text(f"CELERY_BROKER_URL={fresh_redis.url}\nCELERY_RESULT_BACKEND={fresh_redis.url}\n")
    (work / ".env").chmod(0o600)
    env = worker_env(fresh_redis.url, work / "topology.yaml", PYTHONPATH=f"{EXAMPLES}{os.pathsep}{ROOT / 'tests'}")
    for secret_or_path in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TOPOLOGY_FILE"):
        del env[secret_or_path]  # the rendered files must supply these (CELERY_TOPOLOGY_FILE) or .env (the URLs)
    return LiveTopology(load(work / "topology.yaml"), work, env, Celery("render-tests", broker=fresh_redis.url))


@dataclass
class LiveTopology:
    topology: Topology
    work: Path
    env: dict[str, str]
    control: Celery

    def expected_queues(self) -> dict[str, list[str]]:
        """Worker name (as Celery expands it) -> the queues its pool declares."""
        t = self.topology
        return {host_format(default_nodename(t.pool_hostname(name))): sorted(t.pools[name].queues) for name in t.pools}

    def wait_for_every_pool(self) -> None:
        expected = set(self.expected_queues())
        wait_for(lambda: expected <= set(self.control.control.inspect(timeout=2).ping() or {}), 180, "every pool")

    def active_queues(self) -> dict[str, list[str]]:
        answer = self.control.control.inspect(timeout=5).active_queues() or {}
        return {host: sorted(q["name"] for q in queues) for host, queues in answer.items()}


def without_user(directory: Path) -> Path:
    """A --template-dir whose program.j2 is the shipped one without `user=`.

    The test's Python lives under /root (mode 0700): no other user can run it, so the live programs
    run as the current user, and the override mechanism is what takes `user=` out.
    """
    overrides = directory / "templates"
    overrides.mkdir()
    shipped = (template_root() / "supervisor" / "program.j2").read_text()
    (overrides / "program.j2").write_text(re.sub(r"^user=.*\n", "", shipped, flags=re.M))
    return overrides


def supervisorctl(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(BIN / "supervisorctl"), "-c", str(conf), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=180)


@pytest.fixture
def supervised(live: LiveTopology, short_dir: Path) -> Iterator[Path]:
    """supervisord running the rendered config; its programs are ended by their recorded pids afterwards."""
    (rendered,) = render(live.topology, "supervisor", "topology.yaml", template_dirs=[without_user(short_dir)])
    assert "\nuser=" not in rendered.text
    include = short_dir / rendered.path
    include.write_text(rendered.text)
    conf = supervisord_conf(short_dir, include)
    daemon = Process([str(BIN / "supervisord"), "-c", str(conf)], short_dir / "supervisord.out", env=live.env)
    pids: list[int] = []
    try:
        wait_for(lambda: (short_dir / "supervisor.sock").exists(), 30, "supervisord's socket")
        live.wait_for_every_pool()
        pids += [int(p) for p in supervisorctl(conf, "pid", "all").stdout.split() if p.isdigit() and p != "0"]
        yield conf
    finally:
        daemon.stop(timeout=120)
        for pid in pids:  # normally gone with supervisord; a leftover is still ours if it still runs our app
            with contextlib.suppress(OSError):
                if b"render_tasks:app" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.killpg(pid, signal.SIGKILL)  # supervisor gives each program its own process group


def test_supervisord_brings_up_every_pool_on_its_queues(live: LiveTopology, supervised: Path) -> None:
    assert live.active_queues() == live.expected_queues()
    status = supervisorctl(supervised, "status").stdout
    assert status.count("RUNNING") == len(live.topology.pools) + 1  # the pools and beat


def test_supervisorctl_stop_lets_running_tasks_finish(live: LiveTopology, supervised: Path) -> None:
    markers = [live.work / f"task-{i}" for i in (1, 2)]
    for marker in markers:
        live.control.send_task("render_tests.slow", args=[8, str(marker)], queue="default")
    wait_for(lambda: all(Path(f"{m}.started").exists() for m in markers), 120, "both tasks running")
    assert not any(Path(f"{m}.finished").exists() for m in markers)
    program = f"{live.topology.unit_prefix}:{live.topology.unit_prefix}-worker-default"
    stopped = supervisorctl(supervised, "stop", program)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert all(Path(f"{m}.finished").exists() for m in markers)
    log = (supervised.parent / "supervisord.log").read_text()
    assert f"stopped: {live.topology.unit_prefix}-worker-default (exit status 0)" in log


def test_each_systemd_exec_start_run_directly_brings_up_the_same_worker(live: LiveTopology) -> None:
    units = [f.text for f in render(live.topology, "systemd", "topology.yaml") if "-worker-" in f.path]
    workers = []
    try:
        for i, unit in enumerate(units):
            name, value = systemd_words(unit, "Environment")[0].split("=", 1)
            argv, cwd = systemd_words(unit, "ExecStart"), Path(systemd_words(unit, "WorkingDirectory")[0])
            workers.append(Process(argv, live.work.parent / f"unit-{i}.log", env={**live.env, name: value}, cwd=cwd))
        live.wait_for_every_pool()
        assert live.active_queues() == live.expected_queues()
    finally:
        for worker in workers:
            worker.stop(timeout=60)


MDWE = (
    "import ctypes, os, sys; assert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0; os.execv(sys.argv[1], sys.argv[1:])"
)


def test_a_prefork_worker_works_under_memory_deny_write_execute(live: LiveTopology) -> None:
    """What deploy.hardening.memory_deny_write_execute would do, measured with the kernel's PR_SET_MDWE.

    The example's worker (celery, kombu, billiard, redis-py) runs tasks with W+X mappings refused;
    the option stays opt-in because task code may need them (JITs, some cffi/ctypes callbacks).
    """
    (unit,) = [f.text for f in render(live.topology, "systemd", "topology.yaml") if f.path.endswith("-default.service")]
    name, value = systemd_words(unit, "Environment")[0].split("=", 1)
    argv = [str(BIN / "python"), "-c", MDWE, *systemd_words(unit, "ExecStart")]
    worker = Process(argv, live.work.parent / "mdwe.log", env={**live.env, name: value}, cwd=live.work)
    try:
        worker.wait_for_output(" ready.", 120)
        marker = live.work / "mdwe"
        live.control.send_task("render_tests.slow", args=[0, str(marker)], queue="default")
        live.control.send_task("render_tests.write_execute", args=[str(marker)], queue="default")
        wait_for(lambda: Path(f"{marker}.finished").exists() and Path(f"{marker}.wx-refused").exists(), 60, "tasks")
        assert not Path(f"{marker}.wx-allowed").exists()
    finally:
        worker.stop(timeout=60)
