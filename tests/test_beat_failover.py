"""Two beats on redbeat (real Redis, real `celery beat` from the rendered units' command line): the leader is
SIGKILLed, the standby takes over; no run is sent twice and the gap stays within the failover bound.

Sends are read from what beat published: each beat logs `Sending due task` with a millisecond time
just before publishing, and the queue in Redis must hold exactly that many messages.
"""

from __future__ import annotations

import itertools
import re
import signal
import socket
import time
from datetime import datetime
from pathlib import Path

import pytest

from celery_topology import load
from celery_topology.cluster.beatlock import beat_status, doctor_findings, lock_state
from celery_topology.cluster.queues import redis_read
from celery_topology.render import render

from support import BIN, Process, RedisServer, run_cli, systemd_words, wait_for, worker_env

EVERY, LOCK_TIMEOUT, LOOP = 2, 5, 2
LOADED_MACHINE_SLACK = 30  # seconds a starved standby may take beyond the failover bound before the test fails
STALE_LOCK_TIMEOUT = 30  # the doctor test's lock: stale for its last 26 s (lock - loop - TICK_SLACK)
TOPOLOGY = """\
version: 1
app: beatapp:app
broker: {{url: "${{CELERY_BROKER_URL}}"}}
queues: {{default: {{}}}}
pools: {{default: {{queues: [default], concurrency: 1, hosts: [a, b]}}}}
beat:
  scheduler: {scheduler}
  hosts: [a, b]
  {lock}max_loop_interval: {loop}
  schedule:
    tick: {{task: beatapp.tick, every: {every}}}
deploy: {{working_directory: /srv/beatapp, celery: /srv/beatapp/.venv/bin/celery}}
"""
APP = "from celery import Celery\n\nfrom celery_topology import configure\n\napp = Celery('beatapp')\nconfigure(app)\n"
SENT = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/\w+\] Scheduler: Sending due task tick", re.M)


def write(tmp_path: Path, scheduler: str = "redbeat", lock_timeout: int = LOCK_TIMEOUT) -> Path:
    lock = f"lock_timeout: {lock_timeout}\n  " if scheduler == "redbeat" else ""
    text = TOPOLOGY.format(scheduler=scheduler, lock=lock, loop=LOOP, every=EVERY)
    (tmp_path / "topology.yaml").write_text(text)
    (tmp_path / "beatapp.py").write_text(APP)
    return tmp_path / "topology.yaml"


def beat_argv(topology_file: Path, host: str) -> list[str]:
    """The beat unit's ExecStart for `host`, run with this virtualenv's celery."""
    topology = load(topology_file, environ={"CELERY_BROKER_URL": "redis://x/0"})
    (unit,) = [f.text for f in render(topology, "systemd", "topology.yaml", host) if f.path.endswith("-beat.service")]
    return [str(BIN / "celery"), *systemd_words(unit, "ExecStart")[1:]]


def sends(*beats: Process) -> list[float]:
    times = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").timestamp() for b in beats for t in SENT.findall(b.output())]
    return sorted(times)


def start_beat(tmp_path: Path, redis: RedisServer, name: str, host: str) -> Process:
    env = worker_env(redis.url, tmp_path / "topology.yaml", PYTHONPATH=str(tmp_path))
    return Process(beat_argv(tmp_path / "topology.yaml", host), tmp_path / f"beat-{name}.log", env=env, cwd=tmp_path)


def published(redis: RedisServer) -> int:
    return redis_read(redis.url, ["default"], {"priority_steps": list(range(10))})["default"].depth or 0


@pytest.fixture
def redis(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def test_leader_killed_standby_takes_over_without_a_double_send(tmp_path: Path, redis: RedisServer) -> None:
    topology_file = write(tmp_path)
    topology = load(topology_file, environ={"CELERY_BROKER_URL": redis.url})
    leader = start_beat(tmp_path, redis, "a", "a")
    standby: Process | None = None
    try:
        leader.wait_for_output("beat: Acquired lock", 90)
        standby = start_beat(tmp_path, redis, "b", "b")
        standby.wait_for_output("beat: Starting...", 90)
        wait_for(lambda: sends(leader), 60, "the first send")
        first = sends(leader)[0]
        state = lock_state(topology) or {}
        assert state["holder"] is not None and state["holder"]["pid"] == leader.pid
        # the failover bound rests on the lock the holder keeps: this file's 5 s, never RedBeat's own 10 s (5 loops)
        assert state["ttl"] is not None and state["ttl"] <= LOCK_TIMEOUT
        wait_for(lambda: time.time() >= first + 20, 30, "20 s of sends", interval=0.2)
        leader.send(signal.SIGKILL)
        leader.proc.wait(10)
        standby.wait_for_output("beat: Acquired lock", LOCK_TIMEOUT + LOOP + 60)
        assert (lock_state(topology) or {})["holder"]["pid"] == standby.pid
        wait_for(lambda: time.time() >= first + 60, 60, "60 s of sends", interval=0.2)
        report = beat_status(topology)
        assert report is not None and report["entries"]["tick"]["last_run"] is not None
    finally:
        leader.stop(10)
        if standby is not None:
            standby.stop(30)
    times = sends(leader, *([standby] if standby else []))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    print(f"redbeat, leader SIGKILLed at 20 s: {len(times)} sends in {times[-1] - times[0]:.1f}s,")
    print(f"  shortest gap {min(gaps):.2f}s, longest {max(gaps):.2f}s (bound {LOCK_TIMEOUT + LOOP + 2}s)")
    assert standby is not None and sends(leader) and sends(standby)
    assert max(sends(leader)) < min(sends(standby))  # one after the other, never both
    assert min(gaps) > EVERY / 2  # no slot sent twice: a double send is two sends within one interval
    # Measured against lock_timeout + loop + 2 s above (the README's figures); asserted with room for a loaded
    # machine, where the standby's poll and first tick may start late: still far below RedBeat's own failover.
    assert max(gaps) <= LOCK_TIMEOUT + LOOP + LOADED_MACHINE_SLACK
    assert published(redis) in (len(times), len(times) - 1)  # the killed beat may have logged and died unsent
    assert len(times) >= (60 - LOCK_TIMEOUT - LOOP - 2) / (EVERY + 1)


def test_two_environments_on_one_redis_take_a_lock_each(tmp_path: Path, redis: RedisServer) -> None:
    """redbeat's keys carry the environment: staging's beat and production's, on one Redis, each lead and
    send (with one prefix for both, the second would wait as a standby for as long as the first lives)."""
    topology_file = write(tmp_path)
    topology_file.write_text(topology_file.read_text() + "environments: {staging: {}, production: {}}\n")
    argv = beat_argv(topology_file, "a")
    beats: dict[str, Process] = {}
    try:
        for environment in ("staging", "production"):
            env = worker_env(redis.url, topology_file, PYTHONPATH=str(tmp_path), CELERY_TOPOLOGY_ENV=environment)
            beats[environment] = Process(argv, tmp_path / f"beat-{environment}.log", env=env, cwd=tmp_path)
        for environment, beat in beats.items():
            beat.wait_for_output("beat: Acquired lock", 90)
            topology = load(topology_file, environ={"CELERY_BROKER_URL": redis.url}, env=environment)
            assert (lock_state(topology) or {})["holder"]["pid"] == beat.pid, environment
        wait_for(lambda: all(sends(b) for b in beats.values()), 60, "a send from each environment's beat")
        locks = sorted(k.decode() for k in redis.client().scan_iter(match="redbeat:*:lock"))
        assert locks == ["redbeat:beatapp:app:production::lock", "redbeat:beatapp:app:staging::lock"]  # held together
    finally:
        for beat in beats.values():
            beat.stop(10)


def test_two_plain_beats_send_every_run_twice_which_validate_refuses(tmp_path: Path, redis: RedisServer) -> None:
    """What `beat-duplicate` prevents, measured: two beats with the plain scheduler both send every run."""
    topology_file = write(tmp_path, "celery")
    from celery_topology.topology.validate import check

    _, problems = check(topology_file, {"CELERY_BROKER_URL": redis.url})
    assert [p.code for p in problems if p.is_error] == ["beat-duplicate"]
    text = topology_file.read_text().replace("hosts: [a, b]\n  max", "host: a\n  max")
    topology_file.write_text(text)
    argv = beat_argv(topology_file, "a")
    env = worker_env(redis.url, topology_file, PYTHONPATH=str(tmp_path))
    beats = [
        Process([*argv, f"--schedule={tmp_path}/schedule-{n}"], tmp_path / f"plain-{n}.log", env=env, cwd=tmp_path)
        for n in "ab"
    ]
    try:
        wait_for(lambda: all(sends(b) for b in beats), 90, "both plain beats sending")
        start = max(sends(b)[0] for b in beats)
        wait_for(lambda: time.time() >= start + 10, 30, "10 s of sends", interval=0.2)
    finally:
        for beat in beats:
            beat.stop(30)
    per_beat = [len([t for t in sends(b) if start <= t <= start + 10]) for b in beats]
    print(f"two plain beats over 10 s: {per_beat} sends (every {EVERY}s): each run sent twice")
    assert all(n >= 10 / (EVERY + 1) for n in per_beat)


def test_doctor_flags_a_stale_lock_and_undeclared_entries(tmp_path: Path, redis: RedisServer) -> None:
    """A lock is stale from one loop interval (+ slack) without extension until it expires: with a 30 s lock the
    test has 26 s to see it, not the single second a 5 s lock would leave a loaded machine."""
    topology = load(write(tmp_path, lock_timeout=STALE_LOCK_TIMEOUT), environ={"CELERY_BROKER_URL": redis.url})
    beat = start_beat(tmp_path, redis, "a", "a")
    try:
        beat.wait_for_output("beat: Acquired lock", 90)
        wait_for(lambda: sends(beat), 60, "the first send")
        assert doctor_findings(topology) == []
        env = worker_env(redis.url, tmp_path / "topology.yaml")
        shown = run_cli("status", "--timeout", "0.5", env=env, cwd=tmp_path)
        assert (
            f"BEAT LOCK redbeat:beatapp:app::lock: held by {socket.gethostname()} pid {beat.pid} since" in shown.stdout
        )
        (row,) = [line for line in shown.stdout.splitlines() if line.startswith("tick ")]
        assert "never" not in row and row.split()[-1] != "-"  # last run and next run both known
        prefix = "redbeat:beatapp:app:"
        client = redis.client()
        client.zadd(f"{prefix}:schedule", {f"{prefix}old report": 1})  # an entry the file no longer declares
        client.hset(f"{prefix}old report", "definition", "{}")
        beat.send(signal.SIGKILL)
        beat.proc.wait(10)

        def stale() -> bool:
            return "beat-lock-stale" in [f.code for f in doctor_findings(topology)]

        wait_for(stale, STALE_LOCK_TIMEOUT, "doctor to call the dead beat's lock stale")
    finally:
        beat.stop(10)
    (undeclared,) = [f for f in doctor_findings(topology) if f.code == "beat-undeclared-entries"]
    command = undeclared.message.split("remove them with: ")[1]
    assert "redis-cli -u redis://127.0.0.1" in command
    import subprocess

    subprocess.run(command, shell=True, check=True, capture_output=True, timeout=60)
    assert client.zrange(f"{prefix}:schedule", 0, -1) == [f"{prefix}tick".encode()]
    assert not client.exists(f"{prefix}old report")
