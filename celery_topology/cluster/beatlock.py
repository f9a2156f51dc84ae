"""RedBeat in the live cluster: who holds the lock, when each entry last ran and runs next, what Redis keeps.

Read from the Redis RedBeat uses (`beatlock.py` names the keys): the lock (a token with a TTL that the
holder extends on every tick), the holder record the beat wrote when it took the lock
(`runtime/beat.py`), each entry's `meta` (last run) and its score in the schedule (next run).
A lock that has gone longer than one loop interval without being extended, has no expiry, or
expires later than this file's lock_timeout allows is stale: its holder is dead or not configured
by this file. Entries in the schedule that the file does not declare keep being sent by RedBeat.
Each entry's last run is RedBeat's own JSON: reading it needs celery-redbeat installed here; without it,
status and doctor say what to install instead of failing.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..runtime.beat import INSTALL_REDBEAT, redbeat_installed
from ..runtime.store import client
from ..topology.beatlock import (
    entry_key,
    holder_key,
    is_locking,
    key_prefix,
    lock_key,
    lock_timeout,
    max_loop_interval,
    schedule_key,
    statics_key,
)
from ..topology.errors import Problem, finding
from ..topology.model import Topology

TICK_SLACK = 2  # seconds a tick may take beyond the loop interval on a loaded machine before the lock looks stale
REDBEAT_MISSING = f"{INSTALL_REDBEAT}; status needs it to read each entry's last run"


def redbeat_missing() -> Problem:
    return finding("warning", "redbeat-missing", REDBEAT_MISSING)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _last_run(meta: Any) -> str | None:
    from redbeat.decoder import RedBeatJSONDecoder

    if not meta:
        return None
    last = json.loads(_text(meta) or "{}", cls=RedBeatJSONDecoder).get("last_run_at")
    return last.astimezone(UTC).isoformat(timespec="seconds") if isinstance(last, datetime) else None


def lock_state(topology: Topology) -> dict[str, Any] | None:
    """The lock as Redis holds it (None without redbeat): held, seconds left, holder, `stale` with why."""
    if topology.beat is None or not is_locking(topology.beat) or topology.redis_url is None:
        return None
    redis = client(topology.redis_url)
    token, ttl_ms, holder_raw = (
        redis.get(lock_key(topology)),
        redis.pttl(lock_key(topology)),
        redis.get(holder_key(topology)),
    )
    if token is None:
        return {"key": lock_key(topology), "held": False, "ttl": None, "holder": None, "stale": None}
    holder = json.loads(_text(holder_raw) or "null")
    known = holder if isinstance(holder, dict) and holder.get("token") == _text(token) else None
    ttl = None if ttl_ms < 0 else ttl_ms / 1000
    return {
        "key": lock_key(topology),
        "held": True,
        "ttl": ttl,
        "holder": {"hostname": known["hostname"], "pid": known["pid"], "since": _time(known["since"])}
        if known
        else None,
        "stale": _stale(topology, ttl),
    }


def _stale(topology: Topology, ttl: float | None) -> str | None:
    assert topology.beat is not None
    timeout, loop = lock_timeout(topology.beat), max_loop_interval(topology.beat) or 0
    if ttl is None:
        return "it never expires (written by hand or by another tool): no standby can ever take over"
    if ttl > timeout + 1:
        return f"it expires in {ttl:.0f}s, beyond this file's lock_timeout {timeout}s: a beat not configured by this file holds it"
    if ttl < timeout - loop - TICK_SLACK:
        return f"not extended for {timeout - ttl:.0f}s (the holder extends it every {loop}s or sooner): its beat is dead or stuck"
    return None


def entries(topology: Topology) -> dict[str, dict[str, str | None]] | None:
    """Each declared entry's last run and next run, as RedBeat keeps them (None: not in Redis yet); None for
    all of them when celery-redbeat, whose JSON the last runs are written in, is not installed here."""
    assert topology.beat is not None and topology.redis_url is not None
    if not redbeat_installed():
        return None
    redis = client(topology.redis_url)
    pipe = redis.pipeline(transaction=False)
    for name in topology.beat.schedule:
        pipe.hget(entry_key(topology, name), "meta")
        pipe.zscore(schedule_key(topology), entry_key(topology, name))
    answers = iter(pipe.execute())
    return {
        name: {"last_run": _last_run(next(answers)), "next_run": _time(next(answers))}
        for name in topology.beat.schedule
    }


def undeclared(topology: Topology) -> list[str]:
    """Keys of entries RedBeat schedules that the file does not declare (removed from it, or added at run time)."""
    assert topology.beat is not None and topology.redis_url is not None
    declared = {entry_key(topology, name) for name in topology.beat.schedule}
    scheduled = (_text(k) or "" for k in client(topology.redis_url).zrange(schedule_key(topology), 0, -1))
    return sorted(key for key in scheduled if key not in declared)


def removal_command(topology: Topology, keys: list[str]) -> str:
    """The redis-cli command that removes `keys` from RedBeat's schedule (password left out: REDISCLI_AUTH)."""
    assert topology.redis_url is not None
    parts = urlsplit(topology.redis_url)
    host = parts.hostname or "localhost"
    url = urlunsplit((parts.scheme, f"{host}:{parts.port}" if parts.port else host, parts.path, "", ""))
    names = [key[len(key_prefix(topology)) :] for key in keys]
    cli = ["redis-cli", "-u", url]
    commands = [
        [*cli, "ZREM", schedule_key(topology), *keys],
        [*cli, "SREM", statics_key(topology), *names],
        [*cli, "DEL", *keys],
    ]
    auth = "REDISCLI_AUTH=<password> " if parts.password else ""
    return " && ".join(auth + shlex.join(command) for command in commands)


def lock_findings(topology: Topology, state: dict[str, Any] | None) -> list[Problem]:
    """What `status` and `doctor` say about the lock: nobody holding it, or a stale one."""
    if state is None:
        return []
    if not state["held"]:
        return [finding("error", "beat-lock-free", "no beat holds the redbeat lock: no periodic task is being sent")]
    if state["stale"]:
        text = (
            f"the redbeat lock {state['key']} is stale: {state['stale']}; it frees itself when it expires, or delete it"
        )
        return [finding("error", "beat-lock-stale", text)]
    return []


def doctor_findings(topology: Topology) -> list[Problem]:
    """The lock's state and the entries Redis schedules that the file no longer declares, with their removal."""
    state = lock_state(topology)
    found = [f for f in lock_findings(topology, state) if f.code == "beat-lock-stale"]
    if state is not None and not redbeat_installed():
        found.append(redbeat_missing())
    if state is not None:
        keys = undeclared(topology)
        if keys:
            text = (
                f"redbeat schedules {len(keys)} entr{'ies' if len(keys) > 1 else 'y'} the file does not declare"
                f" ({', '.join(keys)}): they are still sent; remove them with: {removal_command(topology, keys)}"
            )
            found.append(finding("warning", "beat-undeclared-entries", text))
    return found


def beat_status(topology: Topology) -> dict[str, Any] | None:
    """For `status`: the lock and every entry's last and next run (None unless the scheduler is redbeat;
    `entries` None when celery-redbeat is not installed here)."""
    state = lock_state(topology)
    return None if state is None else {"lock": state, "entries": entries(topology)}
