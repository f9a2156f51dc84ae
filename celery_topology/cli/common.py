"""What every command shares: loading the topology or exiting with its problems."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from ..topology.errors import Problem, TopologyError
from ..topology.model import Topology
from ..topology.validate import load

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)


def topology_or_exit(ctx: click.Context) -> Topology:
    """The topology named by --file; on errors print them to stderr and exit 1."""
    try:
        return load(ctx.obj)
    except TopologyError as exc:
        fail(exc.problems)


def fail(problems: list[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def emit(fmt: str, data: object, text: Callable[[], str]) -> None:
    """`data` as JSON for --format json, else the text `text()` makes of it for people."""
    if fmt == "json":
        print_json(data)
    else:
        click.echo(text())
