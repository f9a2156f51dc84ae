"""The `celery-topology` command: parse arguments, call the library, print, exit.

Exit codes: 0 fine, 1 the topology has errors (or a check failed), 2 usage error.
Each command lives in its own module and is registered here.
"""

from __future__ import annotations

import click

from . import explain as _explain
from . import render as _render
from . import serve as _serve
from . import status as _status
from . import validate as _validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--file",
    "-f",
    "file",
    envvar="CELERY_TOPOLOGY_FILE",
    default="topology.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The topology file (also $CELERY_TOPOLOGY_FILE).",
)
@click.version_option(package_name="celery-topology")
@click.pass_context
def main(ctx: click.Context, file: str) -> None:
    """One topology.yaml for your Celery queues, routes, priorities, retries, beat and worker units."""
    ctx.obj = file


for _command in (_validate.validate, _validate.schema):
    main.add_command(_command)
main.add_command(_render.render)
for _command in (_explain.route, _explain.show, _explain.graph, _status.status, _serve.serve):
    main.add_command(_command)
