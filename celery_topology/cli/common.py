"""What every command shares: loading the topology or exiting with its problems."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import click

from ..topology.environments import VARIABLE, UnknownEnvironment
from ..topology.errors import Problem, TopologyError

if TYPE_CHECKING:  # the model (pydantic) is imported by the commands that load a topology, not by --version
    from ..topology.model import Topology

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
_ENV_META = "celery_topology.env"


def _remember_env(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[_ENV_META] = value


_ENV_HELP = "The environment of the file to merge over it  [default: $CELERY_TOPOLOGY_ENV, else none]"
ENV = click.option("--env", envvar=VARIABLE, expose_value=False, is_eager=True, callback=_remember_env, help=_ENV_HELP)


def everywhere(command: click.Command, option: Callable[[], click.Option]) -> click.Command:
    """`command` (and each subcommand of a group) taking `option()` too, so it goes where users put it."""
    command.params.append(option())
    for sub in getattr(command, "commands", {}).values():
        everywhere(sub, option)
    return command


def with_env_option(command: click.Command) -> click.Command:
    """`command` (and each subcommand of a group) taking `--env NAME` too."""
    return everywhere(
        command, lambda: click.Option(["--env"], expose_value=False, callback=_remember_env, help=_ENV_HELP)
    )


def env_name(ctx: click.Context) -> str | None:
    """The environment asked for with --env (on the command or before it) or $CELERY_TOPOLOGY_ENV."""
    name: str | None = ctx.meta.get(_ENV_META)
    return name


def exits(failure: str | None = None) -> str:
    """The exit codes of a command for its --help (`failure`: what exit 1 means for it)."""
    one = f", 1 {failure}" if failure else ""
    return f"Exit codes: 0 done{one}, 2 usage error, 130 interrupted (Ctrl-C)."


def topology_or_exit(ctx: click.Context) -> Topology:
    """The topology named by --file (and --env); on errors print them to stderr and exit 1."""
    from ..topology.validate import load

    try:
        return load(ctx.obj, env=env_name(ctx))
    except TopologyError as exc:
        fail(exc.problems)
    except UnknownEnvironment as exc:
        raise click.UsageError(str(exc)) from None


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
