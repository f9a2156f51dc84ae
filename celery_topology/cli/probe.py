"""`probe live|ready`: listed here for --help; the console script runs it without click (see entry.py)."""

from __future__ import annotations

import sys

import click

from ..runtime import heartbeat


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def probe(args: tuple[str, ...]) -> None:
    """Is the worker live or ready? Reads one heartbeat file: no app import, no broker call."""
    sys.exit(heartbeat.main(list(args)))
