"""The heartbeat file a worker's consumer loop refreshes, and `celery-topology probe`'s verdict on it.

Standard library only, and nothing else of the package: a liveness probe runs this every few
seconds, so it must cost about what `python -c pass` costs (no Celery, no pydantic, no click, no
broker call). The record is one small JSON object per worker, replaced atomically:

    {"pid": 4711, "at": 1764576000.5, "connected": true, "hold": 0}

- `at`: when the consumer's event loop last ran the heartbeat (or, during a broker outage, when
  the reconnect loop last tried); live = `at` within the window (+ `hold`);
- `connected`: the broker connection is up; ready = live and connected;
- `hold`: seconds a running task may keep the loop busy (a solo pool runs tasks inside the loop).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

DEFAULT_WINDOW = 60  # seconds; the consumer beats every 5 s (at most a third of systemd's WatchdogSec)
DIR_VARIABLE = "CELERY_TOPOLOGY_PROBE_DIR"
SUFFIX = ".heartbeat"


def directory() -> str:
    """Where heartbeat files live: $CELERY_TOPOLOGY_PROBE_DIR, else $TMPDIR/celery-topology."""
    return os.environ.get(DIR_VARIABLE) or os.path.join(os.environ.get("TMPDIR") or "/tmp", "celery-topology")


def path_for(name: str, where: str | None = None) -> str:
    """One file per worker, named by its pool, so two workers never vouch for each other."""
    return os.path.join(where or directory(), name + SUFFIX)


def write(path: str, *, connected: bool, hold: int) -> None:
    record = {"pid": os.getpid(), "at": time.time(), "connected": connected, "hold": hold}
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(record, out)
    os.replace(tmp, path)


def notify(message: str) -> bool:
    """Send `message` (READY=1, WATCHDOG=1) to systemd's $NOTIFY_SOCKET; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    import socket  # only in the worker, never on the probe's path

    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
    return True


def verdict(check: str, record: dict[str, Any], window: float, now: float) -> tuple[bool, str]:
    """(ok, the reason in words) for `check` (live|ready) on one heartbeat record."""
    age = now - float(record["at"])
    allowed = window + float(record.get("hold", 0))
    if age > allowed:
        return False, f"not live: the consumer loop last ran {age:.0f}s ago (window {allowed:.0f}s)"
    if check == "ready" and not record.get("connected"):
        return False, f"not ready: live ({age:.0f}s ago) but not connected to the broker"
    return True, f"{check}: the consumer loop ran {age:.0f}s ago" + ("" if check == "live" else ", broker connected")


def _find(pool: str | None, where: str) -> str:
    if pool is not None:
        return path_for(pool, where)
    try:
        found = sorted(name for name in os.listdir(where) if name.endswith(SUFFIX))
    except FileNotFoundError:
        found = []
    if len(found) > 1:
        names = ", ".join(name.removesuffix(SUFFIX) for name in found)
        raise LookupError(f"several workers beat in {where} ({names}): give --pool NAME")
    return os.path.join(where, found[0] if found else "*" + SUFFIX)


USAGE = f"""Usage: celery-topology probe live|ready [--pool NAME] [--window SECONDS] [--dir DIR]

  Is this machine's (this pod's) worker live, or ready? Reads only the heartbeat file that the
  worker's consumer loop refreshes (configure(app) installs it): no app import, no broker call.

  live   the consumer loop ran within the window (on a solo pool, plus the pool's longest
         time limit: a running task holds the loop)
  ready  live, and connected to the broker

Options:
  --pool NAME       the pool whose worker to ask (default: the only heartbeat file here)
  --window SECONDS  how old a heartbeat may be  [default: {DEFAULT_WINDOW}]
  --dir DIR         where heartbeat files are  [default: $CELERY_TOPOLOGY_PROBE_DIR, else $TMPDIR/celery-topology]
  -h, --help        Show this message and exit.

Exit codes: 0 live/ready, 1 not, 2 usage error.
"""


def _options(args: list[str]) -> tuple[str, dict[str, str]]:
    if not args or args[0] not in ("live", "ready"):
        raise ValueError("give live or ready")
    options: dict[str, str] = {}
    rest = iter(args[1:])
    for arg in rest:
        name, eq, value = arg.partition("=")
        if name not in ("--pool", "--window", "--dir"):
            raise ValueError(f"no such option: {arg}")
        options[name] = value if eq else next(rest, "")
        if not options[name]:
            raise ValueError(f"{name} needs a value")
    return args[0], options


def main(args: list[str]) -> int:
    """`celery-topology probe ...`; returns the exit code."""
    if {"-h", "--help"} & set(args):
        sys.stdout.write(USAGE)
        return 0
    try:
        check, options = _options(args)
        window = float(options.get("--window", DEFAULT_WINDOW))
        path = _find(options.get("--pool"), options.get("--dir") or directory())
    except (ValueError, LookupError) as exc:
        sys.stderr.write(f"{USAGE}\nError: {exc}\n")
        return 2
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        print(
            f"not live: no heartbeat at {path} (the worker has not started consuming, or runs without configure(app))"
        )
        return 1
    except (OSError, ValueError) as exc:
        print(f"not live: unreadable heartbeat {path}: {exc}")
        return 1
    ok, reason = verdict(check, record, window, time.time())
    print(reason)
    return 0 if ok else 1
