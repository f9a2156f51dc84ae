"""The real-world corpus's units against their own checkers: every systemd unit passes `systemd-analyze
verify` and its ExecStart is the command line planned; supervisor's own parser reads every program back
with its command line, niceness prefix and environment. (tests/test_realworld.py proves the corpus
validates, renders, and routes and schedules as each project's own settings do.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from supervisor.process import Subprocess
from test_realworld import REALWORLD, project  # noqa: F401 - the fixture: one project, its environment set
from test_render_run import for_this_machine, parsed_programs, supervisord_conf
from test_render_systemd import install, verify

from celery_topology import load
from celery_topology.render import render
from celery_topology.render.plan import build

from support import systemd_words


def test_systemd_units_pass_verify_and_run_the_planned_command(project: str, tmp_path: Path) -> None:  # noqa: F811
    topology = load(REALWORLD / project / "topology.yaml")
    files = render(topology, "systemd", "topology.yaml")
    result = verify(tmp_path, install(tmp_path, files))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    plan = build(topology)
    units = {f.path: f.text for f in files}
    for program in plan.programs:
        unit = units[f"{program.name}.service"]
        assert systemd_words(unit, "ExecStart") == list(program.argv)
        assignments = [
            w
            for line in unit.splitlines()
            if line.startswith("Environment=")
            for w in systemd_words(line, "Environment")
        ]
        assert dict(a.split("=", 1) for a in assignments[1:]) == dict(program.environment)  # after CELERY_TOPOLOGY_FILE


def test_supervisor_reads_every_program_back(project: str) -> None:  # noqa: F811
    with tempfile.TemporaryDirectory(prefix="ct-") as name:
        directory = Path(name)
        directory.chmod(0o755)
        topology = for_this_machine(load(REALWORLD / project / "topology.yaml"), directory)
        (rendered,) = render(topology, "supervisor", "topology.yaml")
        include = directory / rendered.path
        include.write_text(rendered.text)
        programs = parsed_programs(supervisord_conf(directory, include))
        intended = {p.name: p for p in build(topology).programs}
        assert sorted(programs) == sorted(intended)
        for program_name, config in programs.items():
            program = intended[program_name]
            _filename, argv = Subprocess(config).get_execv_args()
            assert tuple(argv) == program.niced_argv
            expected = {"CELERY_TOPOLOGY_FILE": f"{directory}/topology.yaml", **dict(program.environment)}
            assert config.environment == expected  # type: ignore[attr-defined]
