"""`route`, `show` and `graph`: the file explained, no broker needed."""

from __future__ import annotations

import click

from ..render.mermaid import mermaid
from ..topology.explain import route_info, route_text, show_info, show_text
from .common import FORMAT, emit, exits, topology_or_exit


@click.command(epilog=exits("the file has errors"))
@click.argument("task_name")
@FORMAT
@click.pass_context
def route(ctx: click.Context, task_name: str, fmt: str) -> None:
    """Where TASK_NAME goes: matched route, queue, priority, retry policy, and the pools that run it."""
    info = route_info(topology_or_exit(ctx), task_name)
    emit(fmt, info, lambda: route_text(info))


@click.command(epilog=exits("the file has errors"))
@FORMAT
@click.pass_context
def show(ctx: click.Context, fmt: str) -> None:
    """The topology as readable tables, or JSON (broker password masked)."""
    info = show_info(topology_or_exit(ctx))
    emit(fmt, info, lambda: show_text(info))


@click.command(epilog=exits("the file has errors"))
@click.option("--fence/--no-fence", default=False, help="Wrap in a ```mermaid block, ready to paste into Markdown.")
@click.pass_context
def graph(ctx: click.Context, fence: bool) -> None:
    """A Mermaid diagram: routes -> queues -> pools -> hosts, and beat entries."""
    text = mermaid(topology_or_exit(ctx))
    click.echo(f"```mermaid\n{text}```" if fence else text, nl=False)
    if fence:
        click.echo()
