"""The `celery-topology` command: parse arguments, call the library, print, exit.

Exit codes: 0 fine, 1 the topology has errors (or a check failed), 2 usage error.
Each command lives in its own module and is registered here.
"""

from __future__ import annotations

import importlib
import keyword

import click

from ..topology.validate import topology_path
from .common import ENV, with_env_option

# command -> the module under cli/ that defines it (same name as the function). Imported only when
# run, so `validate` does not pay for Jinja (render) or Starlette (serve).
COMMANDS = {
    "validate": "validate",
    "schema": "validate",
    "render": "render",
    "route": "explain",
    "show": "explain",
    "graph": "explain",
    "status": "status",
    "serve": "serve",
    "dead": "dead",
    "doctor": "doctor",
    "import": "import_",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}")
            self.add_command(
                with_env_option(getattr(module, f"{cmd_name}_" if keyword.iskeyword(cmd_name) else cmd_name))
            )
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--file",
    "-f",
    "file",
    type=click.Path(dir_okay=False),
    help="The topology file  [default: $CELERY_TOPOLOGY_FILE, else ./topology.yaml]",
)
@ENV
@click.version_option(package_name="celery-topology")
@click.pass_context
def main(ctx: click.Context, file: str | None) -> None:
    """One topology.yaml for your Celery queues, routes, priorities, retries, beat and worker units."""
    ctx.obj = file or str(topology_path())
