"""`serve`: GET /metrics, /workers/health and /workers/stats over HTTP (needs the `serve` extra)."""

from __future__ import annotations

import click

from .common import exits, topology_or_exit


@click.command(epilog=exits("the file has errors or the server could not start"))
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
# `--host` names a machine everywhere else (render --host, pools.*.hosts); kept only so old scripts still run.
@click.option("--host", "old_bind", hidden=True, deprecated="use --bind", help="Old name of --bind.")
@click.option("--port", default=9808, show_default=True, type=click.IntRange(1, 65535))
@click.option("--timeout", default=1.0, show_default=True, help="Seconds to wait for workers to answer.")
@click.option(
    "--cache",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds the workers' answers to a broadcast are reused (queue depth and age are always read fresh).",
)
@click.pass_context
def serve(ctx: click.Context, bind: str, old_bind: str | None, port: int, timeout: float, cache: float) -> None:
    """Serve Prometheus metrics and the worker health endpoints (503 when unhealthy) with uvicorn."""
    try:
        import uvicorn

        from ..cluster.health import standalone_app
    except ImportError as exc:
        raise click.ClickException(f"{exc.name} is missing: pip install 'celery-topology[serve]'") from None
    app = standalone_app(topology_or_exit(ctx), timeout, cache)
    uvicorn.run(app, host=old_bind or bind, port=port, log_level="info")
