"""`import`: write a topology.yaml from an existing Celery app, and with --verify prove it runs the same."""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..topology.errors import TopologyError
from ..topology.model import Topology
from ..topology.validate import load
from .common import exits, fail

if TYPE_CHECKING:
    from celery import Celery


@click.command(
    "import", epilog=exits("the app cannot be read, the output would be overwritten, or --verify found a difference")
)
@click.argument("app")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="topology.yaml", show_default=True)
@click.option(
    "--worker",
    "workers",
    multiple=True,
    help='A worker command line, e.g. "celery -A proj worker -Q a,b -c 4"; once per pool.',
)
@click.option(
    "--verify",
    is_flag=True,
    help="Configure a fresh app from the written file and list every difference (exit 1 if any).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--verify-only", is_flag=True, help="Write nothing: compare APP with the existing output file.")
def import_(app: str, output: str, workers: tuple[str, ...], verify: bool, force: bool, verify_only: bool) -> None:
    """Read the Celery app APP (package.module:app) and write its topology."""
    from ..adopt.emit import emit
    from ..adopt.read import read_app
    from ..adopt.workers import read_pools

    target = Path(output)
    if not verify_only and target.exists() and not force:
        raise click.UsageError(f"{output} exists; pass --force to overwrite it or -o to write elsewhere")
    with _usage_error():
        celery_app = _app_or_exit(app)
    if verify_only:
        _verify(celery_app, app, _load_or_exit(target), output)
        return
    draft = read_app(celery_app, app)
    data = draft.data
    beat = data.pop("beat", None)  # pools come before beat in the file, as in the format's example
    with _usage_error():
        data["pools"] = read_pools(list(workers), list(data["queues"]), data["defaults"]["queue"], draft)
    if beat is not None:
        data["beat"] = beat
    target.write_text(emit(draft))
    for text in draft.unconverted:
        click.echo(f"not converted: {text}", err=True)
    topology = _load_or_exit(target, "written, but it does not validate yet; fix these:")
    click.echo(f"{output}: written from {app}: {len(topology.queues)} queues, {len(topology.routes)} routes")
    if verify:
        _verify(celery_app, app, topology, output)


@contextmanager
def _usage_error() -> Iterator[None]:
    """APP or a --worker line that cannot be read is a usage error (exit 2), not a traceback."""
    from ..adopt.draft import Unreadable

    try:
        yield
    except Unreadable as exc:
        raise click.UsageError(str(exc)) from None


def _app_or_exit(app: str) -> Celery:
    """The app imported as `celery -A` would; its code failing is reported where it failed (exit 1)."""
    from ..adopt.draft import Unreadable
    from ..adopt.read import load_app

    try:
        return load_app(app)
    except Unreadable:
        raise  # a wrong APP: a usage error
    except Exception as exc:  # the app's own code failing is the user's error to fix, not our crash
        where = _where(exc)
        text = re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", f"{type(exc).__name__}: {exc}")  # no password
        click.echo(f"{where}cannot import {app} as `celery -A {app}` would: {text}", err=True)
        click.echo("fix the module, or run import from the directory (PYTHONPATH) the workers run in", err=True)
        sys.exit(1)


def _where(exc: BaseException) -> str:
    """`file:line:column: ` of a syntax error, else `file:line: ` of the innermost frame in the app's own code."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}:{exc.offset}: "
    ours = ("/celery/", "/kombu/", "/celery_topology/", "/importlib/", "<frozen ")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not any(part in f.filename for part in ours)]
    return f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""


def _load_or_exit(target: Path, why: str = "does not validate:") -> Topology:
    try:
        return load(target)
    except TopologyError as exc:
        click.echo(f"{target}: {why}", err=True)
        fail(exc.problems)


def _verify(celery_app: Celery, app: str, topology: Topology, output: str) -> None:
    from ..adopt.verify import compare

    differences, changed = compare(celery_app, topology)
    for text in changed:
        click.echo(f"on purpose (celery-topology's safe defaults): {text}")
    for text in differences:
        click.echo(f"DIFFERENT {text}")
    if differences:
        click.echo(f"--verify: {len(differences)} difference(s) between {app} and {output}")
        sys.exit(1)
    click.echo(f"--verify: {app} and {output} route every registered task and schedule every beat entry the same")
