"""Rendered supervisor config through supervisor's own parser, and the rendered units run for real.

The live tests run supervisord (as the current user, with its own socket and pidfile in a temporary
directory; programs drop to `nobody`) against a private redis-server.
"""

from __future__ import annotations

import pwd
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from supervisor.options import ServerOptions
from supervisor.process import Subprocess

from celery_topology import Topology, load
from celery_topology.render import render
from celery_topology.render.plan import Program, build

from support import BIN, ROOT

SERVICE_USER = "nobody"  # exists everywhere; rendering for tests with a real user keeps user= in the config


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
    plan = build(topology, source)
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
