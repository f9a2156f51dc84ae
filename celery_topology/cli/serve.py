"""`serve`: GET /workers/health and GET /workers/stats over HTTP (needs the `serve` extra)."""

from __future__ import annotations

import click

from .common import topology_or_exit


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9808, show_default=True, type=click.IntRange(1, 65535))
@click.option("--timeout", default=1.0, show_default=True, help="Seconds to wait for workers to answer.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, timeout: float) -> None:
    """Serve the worker health endpoints (503 when unhealthy) with uvicorn."""
    try:
        import uvicorn

        from ..cluster.health import standalone_app
    except ImportError as exc:
        raise click.ClickException(f"{exc.name} is missing: pip install 'celery-topology[serve]'") from None
    uvicorn.run(standalone_app(topology_or_exit(ctx), timeout), host=host, port=port, log_level="info")
