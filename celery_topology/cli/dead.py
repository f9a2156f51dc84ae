"""`dead list|show|replay|purge`: the tasks kept in the dead-letter store; exit 1 when something failed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from ..topology.explain import table
from ..topology.model import Topology
from .common import FORMAT, emit, exits, topology_or_exit

if TYPE_CHECKING:
    from celery import Celery

QUEUE = click.option("--queue", "-q", help="Only the dead letters of this source queue.")


@contextmanager
def _store(ctx: click.Context, queue: str | None = None) -> Iterator[tuple[Topology, str]]:
    """The topology and its store URL; a missing or unreachable store ends the command with exit 1,
    a `--queue` neither declared nor holding dead letters with exit 2."""
    from ..cluster.deadletters import queues
    from ..cluster.observe import broker_errors, make_app, safe_error
    from ..runtime.store import store_url

    topology = topology_or_exit(ctx)
    url = store_url(topology)
    if url is None:
        click.echo("no dead-letter store: it needs a Redis broker or a Redis result_backend", err=True)
        sys.exit(1)
    try:
        if queue is not None and queue not in topology.queues and queue not in queues(url):
            known = ", ".join(topology.queues)
            raise click.BadParameter(f"unknown queue {queue!r} (declared: {known})", param_hint="'--queue'")
        yield topology, url
    except broker_errors(make_app(topology)) as exc:  # evaluated only when something was raised
        click.echo(f"dead-letter store or broker failed: {safe_error(exc, url)}", err=True)
        sys.exit(1)


@click.group(epilog=exits("the store or broker failed, or the file has errors"))
def dead() -> None:
    """Tasks that failed for good, kept per source queue: list, show, replay, purge."""


@dead.command("list", epilog=exits("the store or broker failed, or the file has errors"))
@QUEUE
@FORMAT
@click.pass_context
def list_(ctx: click.Context, queue: str | None, fmt: str) -> None:
    """Every dead letter, oldest first within each source queue."""
    from ..cluster.deadletters import entries

    with _store(ctx, queue) as (_, url):
        found = list(entries(url, queue))
    rows = [[e["id"], e["task"], e["queue"], e["attempts"], e["exception"], e["time"]] for e in found]
    emit(fmt, found, lambda: table(["id", "task", "queue", "attempts", "exception", "time"], rows))


@dead.command(epilog=exits("no such dead letter, the store failed, or the file has errors"))
@click.argument("task_id")
@FORMAT
@click.pass_context
def show(ctx: click.Context, task_id: str, fmt: str) -> None:
    """One dead letter in full: arguments, exception, attempts. TASK_ID may be a unique prefix of the id."""
    from ..cluster.deadletters import Ambiguous, find

    try:
        with _store(ctx) as (_, url):
            entry = find(url, task_id)
    except Ambiguous as several:
        click.echo(f"{task_id!r} is the start of several dead letters' ids: {several}; give more of it", err=True)
        sys.exit(1)
    if entry is None:
        click.echo(f"no dead letter with id {task_id}; see `celery-topology dead list`", err=True)
        sys.exit(1)
    lines = [f"{key}: {value if isinstance(value, str) else json.dumps(value)}" for key, value in entry.items()]
    emit(fmt, entry, lambda: "\n".join(lines))


@dead.command(epilog=exits("a dead letter was not sent, the store failed, or the file has errors"))
@click.argument("task_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter (of --queue, if given).")
@QUEUE
@FORMAT
@click.pass_context
def replay(ctx: click.Context, task_id: str | None, everything: bool, queue: str | None, fmt: str) -> None:
    """Send dead letters again to their queue with their priority and headers, under new task ids;
    each record goes once sent. When a send fails, the rest are left in the store and listed."""
    from ..cluster.deadletters import entries
    from ..cluster.observe import make_app

    if (task_id is not None) == everything or (queue and not everything):
        raise click.UsageError("give one task id, or --all (optionally with --queue)")
    with _store(ctx, queue) as (topology, url):
        chosen = [e for e in entries(url, queue) if everything or e["id"] == task_id]
        if not chosen and everything:
            emit(fmt, [], lambda: "nothing to replay")
            sys.exit(0)
        if not chosen:
            click.echo(f"no dead letter with id {task_id}; see `celery-topology dead list`", err=True)
            sys.exit(1)
        done = _replay_each(url, make_app(topology), chosen)
    emit(fmt, done, lambda: "\n".join(REPLAY_LINES[d["status"]].format(**d) for d in done))
    sys.exit(0 if all(d["status"] == "replayed" for d in done) else 1)


REPLAY_LINES = {
    "replayed": "replayed {id} ({task}) as {new_id}",
    "skipped": "skipped {id}: another replay is sending it",
    "not-replayable": "cannot replay {id}: its arguments were not kept (dead_letter.keep_args: false)",
    "failed": "FAILED {id} ({task}): {error}; it stays in the store",
    "not-attempted": "not replayed {id} ({task}): the broker failed above; it stays in the store",
}


def _replay_each(url: str, app: Celery, chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replay each record in turn. A record whose queue is no longer declared fails alone; after a
    broker error the others are not attempted (the broker is likely down)."""
    from celery.exceptions import QueueNotFound

    from ..cluster.deadletters import NotReplayable
    from ..cluster.deadletters import replay as send_again
    from ..cluster.observe import broker_errors, safe_error

    done: list[dict[str, Any]] = []
    failed = False
    for e in chosen:
        result = {"id": e["id"], "task": e["task"], "new_id": None, "status": "not-attempted", "error": None}
        if not failed:
            try:
                result["new_id"] = send_again(url, app, e)
                result["status"] = "replayed" if result["new_id"] else "skipped"
            except NotReplayable:
                result["status"] = "not-replayable"
            except QueueNotFound:
                result.update(status="failed", error=f"queue {e['queue']!r} is no longer declared")
            except broker_errors(app) as exc:
                failed = True
                result.update(status="failed", error=safe_error(exc, app.conf.broker_url))
        done.append(result)
    return done


@dead.command(epilog=exits("the store or broker failed, or the file has errors"))
@QUEUE
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@FORMAT
@click.pass_context
def purge(ctx: click.Context, queue: str | None, yes: bool, fmt: str) -> None:
    """Delete dead letters for good (of --queue, else all)."""
    from ..cluster.deadletters import purge as delete

    if not yes:
        click.confirm(f"delete every dead letter{f' of queue {queue}' if queue else ''}?", abort=True)
    with _store(ctx, queue) as (_, url):
        count = delete(url, queue)
    emit(fmt, {"purged": count, "queue": queue}, lambda: f"purged {count} dead letter{'' if count == 1 else 's'}")
