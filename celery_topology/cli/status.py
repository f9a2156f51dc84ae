"""`status`: the declared topology against the live cluster; exit 0 healthy, 1 not."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from ..cluster.assess import Observation, assess
from ..topology.explain import table
from .common import FORMAT, exits, print_json, topology_or_exit


def status_text(report: dict[str, Any]) -> str:
    """The report as tables for people."""
    verdict = "HEALTHY" if report["healthy"] else "UNHEALTHY"
    pools = [
        [name, p["state"], ", ".join(p["served_by"]) or "-", ", ".join(p["queues"])]
        for name, p in report["pools"].items()
    ]
    workers = [
        [name, w["pool"] or "?", ", ".join(w["queues"]), w["active"], w["reserved"], w["scheduled"]]
        for name, w in report["workers"].items()
    ]
    queues = [
        [name, "?" if q["depth"] is None else q["depth"], ", ".join(q["consumers"]) or "NONE"]
        for name, q in report["queues"].items()
    ]
    sections = [f"{verdict}  broker {report['broker']}"]
    if pools:
        sections.append(table(["pool", "state", "served by", "queues"], pools))
    if workers:
        sections.append(table(["worker", "pool", "consumes", "active", "reserved", "scheduled"], workers))
    if queues:
        sections.append(table(["queue", "depth", "consumers"], queues))
    if "beat" in report:
        sections.append(_beat_text(report["beat"]))
    sections += [f"{f['level']}: {f['message']}" for f in report["findings"]]
    return "\n\n".join(sections)


def _beat_text(beat: dict[str, Any]) -> str:
    """Who holds redbeat's lock, and each entry's last and next run."""
    lock, holder = beat["lock"], beat["lock"]["holder"]
    if not lock["held"]:
        who = "held by nobody"
    elif holder is None:
        who = "held by a beat that left no record"
    else:
        who = f"held by {holder['hostname']} pid {holder['pid']} since {holder['since']}"
    ttl = "" if lock["ttl"] is None else f", expires in {lock['ttl']:.0f}s unless extended"
    heading = f"BEAT LOCK {lock['key']}: {who}{ttl}"
    if beat["entries"] is None:  # celery-redbeat not installed here: a finding says so
        return heading
    rows = [[name, e["last_run"] or "never", e["next_run"] or "-"] for name, e in beat["entries"].items()]
    return f"{heading}\n" + table(["entry", "last run", "next run"], rows)


@click.command(epilog=exits("the cluster is unhealthy, the broker unreachable, or the file has errors"))
@FORMAT
@click.option("--timeout", default=1.0, show_default=True, help="Seconds to wait for workers to answer.")
@click.option("--watch", is_flag=True, help="Refresh until interrupted (or --count looks); JSON: one line per look.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks with --watch.")
@click.option("--count", type=click.IntRange(min=1), help="With --watch: stop after this many looks.")
@click.pass_context
def status(ctx: click.Context, fmt: str, timeout: float, watch: bool, interval: float, count: int | None) -> None:
    """Pools, workers, queues and depths of the live cluster against the file; exit 1 when unhealthy."""
    from ..cluster.observe import make_app, observe

    topology = topology_or_exit(ctx)
    app = make_app(topology)
    previous: Observation | None = None
    looks = 0
    while True:
        obs = observe(topology, timeout, app)
        report = assess(topology, obs, previous)
        if fmt == "json" and watch:
            click.echo(json.dumps(report))  # one line per look: JSON Lines for a pipe
        elif fmt == "json":
            print_json(report)
        else:
            click.echo(("\x1b[2J\x1b[H" if watch and sys.stdout.isatty() else "") + status_text(report))
        looks += 1
        if not watch or (count is not None and looks >= count):
            sys.exit(0 if report["healthy"] else 1)
        previous = obs
        time.sleep(interval)
