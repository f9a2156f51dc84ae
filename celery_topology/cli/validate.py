"""`validate` and `schema`."""

from __future__ import annotations

import json
import sys

import click

from ..topology.environments import UnknownEnvironment
from ..topology.model import Topology
from ..topology.schema import json_schema
from ..topology.validate import check, check_every
from .common import FORMAT, env_name, exits, print_json


@click.command(epilog=exits("the file has errors"))
@FORMAT
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.pass_context
def validate(ctx: click.Context, fmt: str, strict: bool) -> None:
    """Report every error and warning in the topology (the base and every environment, or --env's); exit 1 on any
    error (with --strict, on any warning too)."""
    file, env = ctx.obj, env_name(ctx)
    try:
        topology, problems = check(file, env=env) if env else check_every(file)
    except UnknownEnvironment as exc:
        raise click.UsageError(str(exc)) from None
    failed = topology is None or (strict and bool(problems))
    if fmt == "json":
        print_json({"file": file, "valid": topology is not None, "problems": [p.as_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        if topology is not None:
            click.echo(f"{file}: valid: {_summary(topology, len(problems))}")
    sys.exit(1 if failed else 0)


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _summary(topology: Topology, warnings: int) -> str:
    parts = [
        _count(len(topology.queues), "queue"),
        _count(len(topology.routes), "route"),
        _count(len(topology.pools), "pool"),
        _count(len(topology.beat.schedule) if topology.beat else 0, "beat entry", "beat entries"),
    ]
    if topology.environments:
        parts.append(_count(len(topology.environments), "environment"))
    if warnings:
        parts.append(_count(warnings, "warning"))
    return ", ".join(parts)


@click.command(epilog=exits())
def schema() -> None:
    """Print the JSON Schema of topology.yaml (for editors)."""
    click.echo(json.dumps(json_schema(), indent=2))
