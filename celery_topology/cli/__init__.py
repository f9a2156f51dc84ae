"""The `celery-topology` command: parse arguments, call the library, print, exit.

Exit codes: 0 fine, 1 the topology has errors (or a check failed), 2 usage error, 130 interrupted.
Each command lives in its own module and is registered here. `--file/-f` is accepted before the
command and after it (`celery-topology validate -f x.yaml`): both go through `topology_path`.

Start-up is most of a command's time: a command's modules are imported only when it runs
(`--version` imports no pydantic), and at exit every object is frozen, so that Python does not walk
them all (pydantic's models are many) once more while it shuts down: 20 ms of `validate`'s ~135.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import keyword
from typing import Any

import click

from ..topology.loader import TOPOLOGY_ENV
from .common import ENV, everywhere, with_env_option

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
    "probe": "probe",
}
FILE_HELP = f"The topology file  [default: ${TOPOLOGY_ENV}, else ./topology.yaml]"
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C


def _use_file(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    """`-f` after a command: the file for this command (and its subcommands)."""
    if value is not None:
        from ..topology.validate import topology_path  # here, not at the top: see `main`

        ctx.obj = str(topology_path(value))


def _file_option() -> click.Option:
    return click.Option(
        ["--file", "-f", "file"],
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_use_file,
        help=FILE_HELP,
    )


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}")
            command = getattr(module, f"{cmd_name}_" if keyword.iskeyword(cmd_name) else cmd_name)
            self.add_command(with_env_option(everywhere(command, _file_option)))
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # click guesses among loaded commands only: guess among all
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=COMMANDS, ctx=ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # click would print "Aborted!" and exit 1
            pass
        except click.Abort as exc:  # a prompt turns Ctrl-C into Abort; a "no" answer stays exit 1
            if not isinstance(exc.__context__, KeyboardInterrupt):
                raise
        click.echo("\ninterrupted", err=True)
        raise click.exceptions.Exit(INTERRUPTED)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 fine, 1 the file has errors or a check failed, 2 usage error, 130 interrupted.",
)
@click.option("--file", "-f", "file", type=click.Path(dir_okay=False), help=FILE_HELP)
@ENV
@click.version_option(package_name="celery-topology")
@click.pass_context
def main(ctx: click.Context, file: str | None) -> None:
    """One topology.yaml for your Celery queues, routes, priorities, retries, beat and worker units."""
    from ..topology.validate import topology_path  # here, not at the top: --version needs none of it

    atexit.register(gc.freeze)
    ctx.obj = str(topology_path(file))
