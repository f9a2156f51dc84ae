"""The command line as a person types it: `-f` anywhere, JSON everywhere, exit codes, typos, Ctrl-C.

Every command runs as the installed console script (`run_cli`), so what is tested is what a shell sees.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import click
import pytest

from celery_topology.cli import main

from support import BIN, ROOT, Process, RedisServer, free_port, run_cli, wait_for, worker_env

TOPOLOGY = ROOT / "topology.yaml"
TASK = "agentic_clinical_assistant.workers.tasks.agent.plan"


def all_commands() -> list[list[str]]:
    """Every command and subcommand, as argv prefixes (`dead purge`)."""
    ctx = click.Context(main)
    found = []
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        found.append([name])
        found += [[name, sub] for sub in getattr(command, "commands", {})]
    return found


def test_file_is_accepted_after_the_command_too(tmp_path: Path) -> None:
    copy = tmp_path / "x.yaml"
    copy.write_text(TOPOLOGY.read_text())
    done = run_cli("validate", "-f", "x.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x.yaml: valid: 5 queues, 3 routes, 4 pools, 1 beat entry")
    routed = run_cli("route", TASK, "--file", copy, "--format", "json", cwd=tmp_path)
    assert routed.returncode == 0 and json.loads(routed.stdout)["queue"] == "agent"
    # after the command wins over before it, as the later word on a command line does
    missing = run_cli("-f", "nope.yaml", "validate", "-f", "x.yaml", cwd=tmp_path)
    assert missing.returncode == 0, missing.stdout


@pytest.mark.parametrize("argv", [a for a in all_commands() if a[0] != "probe"], ids=" ".join)
def test_every_command_takes_file_and_lists_its_exit_codes(argv: list[str]) -> None:
    done = run_cli(*argv, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # click wraps the epilog
    assert "-f, --file" in text
    assert "Exit codes: 0 done" in text and "2 usage error, 130 interrupted (Ctrl-C)." in text


def test_probe_lists_its_exit_codes_and_reads_no_topology() -> None:
    """`probe` never reads the topology (a liveness probe reads one heartbeat file), so it takes no --file."""
    done = run_cli("probe", "--help")
    text = " ".join(done.stdout.split())
    assert done.returncode == 0 and "Exit codes: 0 live/ready, 1 not, 2 usage error." in text
    assert "--file" not in text


def test_show_prints_json_with_the_password_masked(tmp_path: Path) -> None:
    env = worker_env("redis://:s3cret-pw@127.0.0.1:1/0", TOPOLOGY)
    done = run_cli("show", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["broker"] == "redis://:***@127.0.0.1:1/0" and "s3cret-pw" not in done.stdout
    assert info["pools"]["agent"]["hostname"] == "agent-worker@%h"
    assert info["routes"][-1]["route"] is None and info["routes"][-1]["queue"] == "default"
    assert info["beat"]["schedule"]["nightly-evaluation"]["cron"] == "0 2 * * *"


def test_dead_purge_takes_y_and_prints_json(fresh_redis: RedisServer) -> None:
    env = worker_env(fresh_redis.url, TOPOLOGY)
    done = run_cli("dead", "purge", "-y", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"purged": 0, "queue": None}


def test_a_mistyped_command_gets_the_closest_one() -> None:
    done = run_cli("valdate")
    assert done.returncode == 2
    assert "Error: No such command 'valdate'. Did you mean 'validate'?" in done.stderr
    assert "Did you mean 'list'?" in run_cli("dead", "lst").stderr


def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Interrupted at `dead purge`'s question: the shell's 130, one line, no traceback.

    The command runs as at a terminal, with Ctrl-C's default action: a runner started in the background
    (`nohup ... &`) ignores SIGINT, and Python then leaves it ignored in every child, which would wait forever."""
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        argv = [str(BIN / "celery-topology"), "--file", str(TOPOLOGY), "dead", "purge"]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            wait_for(lambda: "delete every dead letter?" in out.read_text(), 60, "the confirmation question")
            proc.send_signal(signal.SIGINT)
            code = proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert code == 130, out.read_text()
    assert "Traceback" not in out.read_text() and "Aborted" not in out.read_text()


def test_serve_binds_with_bind_and_still_takes_host(tmp_path: Path) -> None:
    """`--bind` is the listen address (`--host` names a machine elsewhere); the old `--host` still runs, with a warning."""
    help_text = run_cli("serve", "--help").stdout
    assert "--bind TEXT" in help_text and "--host" not in help_text
    for flag in ("--bind", "--host"):
        port = free_port()
        argv = [str(BIN / "celery-topology"), "-f", str(TOPOLOGY), "serve", flag, "127.0.0.1", "--port", str(port)]
        server = Process(
            argv, tmp_path / f"serve{flag}.log", env=worker_env("redis://127.0.0.1:1/0", TOPOLOGY)
        )  # serving starts without asking the broker
        try:
            server.wait_for_output(f"Uvicorn running on http://127.0.0.1:{port}", 60)
        finally:
            server.stop()
        assert ("deprecated" in server.output()) == (flag == "--host"), server.output()
