"""`doctor`: the file, then the live broker's settings that lose tasks; exit 1 on an error finding."""

from __future__ import annotations

import sys

import click

from .common import FORMAT, print_json, topology_or_exit


@click.command()
@FORMAT
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the broker.")
@click.pass_context
def doctor(ctx: click.Context, fmt: str, timeout: float) -> None:
    """Check the broker: Redis eviction policy and persistence, RabbitMQ connection; each finding says what to change."""
    from ..doctor import diagnose

    report = diagnose(topology_or_exit(ctx), timeout)
    if fmt == "json":
        print_json(report)
    else:
        lines = [f"{f['level']}: {f['message']} [{f['code']}]" for f in report["findings"]]
        verdict = "OK" if report["ok"] else "PROBLEMS"
        click.echo("\n".join([f"{verdict}  broker {report['broker']}", *lines]))
    sys.exit(0 if report["ok"] else 1)
