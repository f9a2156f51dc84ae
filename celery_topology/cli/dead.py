"""`dead list|show|replay|purge`: the tasks kept in the dead-letter store; exit 1 when something failed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..topology.explain import table
from ..topology.model import Topology
from .common import FORMAT, emit, topology_or_exit

QUEUE = click.option("--queue", "-q", help="Only the dead letters of this source queue.")


@contextmanager
def _store(ctx: click.Context) -> Iterator[tuple[Topology, str]]:
    """The topology and its store URL; a missing or unreachable store ends the command with exit 1."""
    from ..cluster.observe import broker_errors, make_app, safe_error
    from ..runtime.store import store_url

    topology = topology_or_exit(ctx)
    url = store_url(topology)
    if url is None:
        click.echo("no dead-letter store: it needs a Redis broker or a Redis result_backend", err=True)
        sys.exit(1)
    try:
        yield topology, url
    except broker_errors(make_app(topology)) as exc:  # evaluated only when something was raised
        click.echo(f"dead-letter store or broker failed: {safe_error(exc, url)}", err=True)
        sys.exit(1)


@click.group()
def dead() -> None:
    """Tasks that failed for good, kept per source queue: list, show, replay, purge."""


@dead.command("list")
@QUEUE
@FORMAT
@click.pass_context
def list_(ctx: click.Context, queue: str | None, fmt: str) -> None:
    """Every dead letter, oldest first within each source queue."""
    from ..cluster.deadletters import entries

    with _store(ctx) as (_, url):
        found = list(entries(url, queue))
    rows = [[e["id"], e["task"], e["queue"], e["attempts"], e["exception"], e["time"]] for e in found]
    emit(fmt, found, lambda: table(["id", "task", "queue", "attempts", "exception", "time"], rows))


@dead.command()
@click.argument("task_id")
@FORMAT
@click.pass_context
def show(ctx: click.Context, task_id: str, fmt: str) -> None:
    """One dead letter in full: arguments, exception, attempts."""
    from ..cluster.deadletters import find

    with _store(ctx) as (_, url):
        entry = find(url, task_id)
    if entry is None:
        click.echo(f"no dead letter with id {task_id}; see `celery-topology dead list`", err=True)
        sys.exit(1)
    lines = [f"{key}: {value if isinstance(value, str) else json.dumps(value)}" for key, value in entry.items()]
    emit(fmt, entry, lambda: "\n".join(lines))


@dead.command()
@click.argument("task_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter (of --queue, if given).")
@QUEUE
@FORMAT
@click.pass_context
def replay(ctx: click.Context, task_id: str | None, everything: bool, queue: str | None, fmt: str) -> None:
    """Send dead letters again through normal routing, under new task ids; each record goes once sent."""
    from ..cluster.deadletters import entries
    from ..cluster.deadletters import replay as send_again
    from ..cluster.observe import make_app

    if (task_id is not None) == everything or (queue and not everything):
        raise click.UsageError("give one task id, or --all (optionally with --queue)")
    with _store(ctx) as (topology, url):
        chosen = [e for e in entries(url, queue) if everything or e["id"] == task_id]
        if not chosen and everything:
            emit(fmt, [], lambda: "nothing to replay")
            sys.exit(0)
        if not chosen:
            click.echo(f"no dead letter with id {task_id}; see `celery-topology dead list`", err=True)
            sys.exit(1)
        app = make_app(topology)
        done = [{"id": e["id"], "task": e["task"], "new_id": send_again(url, app, e)} for e in chosen]
    lines = [f"replayed {d['id']} ({d['task']}) as {d['new_id']}" for d in done if d["new_id"]]
    lines += [f"skipped {d['id']}: another replay is sending it" for d in done if not d["new_id"]]
    emit(fmt, done, lambda: "\n".join(lines))
    sys.exit(0 if all(d["new_id"] for d in done) else 1)


@dead.command()
@QUEUE
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def purge(ctx: click.Context, queue: str | None, yes: bool) -> None:
    """Delete dead letters for good (of --queue, else all)."""
    from ..cluster.deadletters import purge as delete

    if not yes:
        click.confirm(f"delete every dead letter{f' of queue {queue}' if queue else ''}?", abort=True)
    with _store(ctx) as (_, url):
        count = delete(url, queue)
    click.echo(f"purged {count} dead letter{'' if count == 1 else 's'}")
