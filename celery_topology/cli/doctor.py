"""`doctor`: the file, then the live broker's settings that lose tasks; exit 1 on an error finding."""

from __future__ import annotations

import sys

import click

from .common import FORMAT, emit, exits, topology_or_exit


@click.command(epilog=exits("an error finding, or the file has errors"))
@FORMAT
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for the broker.")
@click.pass_context
def doctor(ctx: click.Context, fmt: str, timeout: float) -> None:
    """Check the app imports and the broker: Redis eviction policy and persistence, RabbitMQ connection; each finding says what to change."""
    from ..cluster.doctor import diagnose

    report = diagnose(topology_or_exit(ctx), timeout, ctx.obj)

    def text() -> str:
        lines = [f"{f['level']}: {f['message']} [{f['code']}]" for f in report["findings"]]
        return "\n".join([f"{'OK' if report['ok'] else 'PROBLEMS'}  broker {report['broker']}", *lines])

    emit(fmt, report, text)
    sys.exit(0 if report["ok"] else 1)
