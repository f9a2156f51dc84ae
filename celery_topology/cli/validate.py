"""`validate` and `schema`."""

from __future__ import annotations

import json
import sys

import click

from ..schema import json_schema
from ..validate import check
from .common import FORMAT, print_json


@click.command()
@FORMAT
@click.pass_obj
def validate(file: str, fmt: str) -> None:
    """Report every error and warning in the topology; exit 1 on any error."""
    topology, problems = check(file)
    if fmt == "json":
        print_json({"file": file, "valid": topology is not None, "problems": [p.as_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        if topology is not None:
            warnings = len(problems)
            click.echo(
                f"{file}: valid: {len(topology.queues)} queues, {len(topology.routes)} routes, {len(topology.pools)} pools, "
                f"{len(topology.beat.schedule) if topology.beat else 0} beat entries"
                + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
            )
    sys.exit(0 if topology is not None else 1)


@click.command()
def schema() -> None:
    """Print the JSON Schema of topology.yaml (for editors)."""
    click.echo(json.dumps(json_schema(), indent=2))
