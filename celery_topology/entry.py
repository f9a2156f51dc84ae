"""The `celery-topology` console script.

`probe` is a liveness probe that Kubernetes runs every few seconds: it goes straight to
`runtime/heartbeat.py` on the standard library alone. Every other command goes to the click group.
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["probe"]:
        from .runtime.heartbeat import main as probe

        sys.exit(probe(args[1:]))
    from .cli import main as cli

    cli()
