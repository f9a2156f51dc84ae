"""Does `app:` name an importable Celery app? Imported the way `celery -A` does, with this topology file."""

from __future__ import annotations

import os
from pathlib import Path

from ..topology.errors import Problem, finding
from ..topology.loader import TOPOLOGY_ENV


def app_findings(app: str, source: str | os.PathLike[str], broker_url: str) -> list[Problem]:
    """An error finding when `app` cannot be imported (or is no Celery app); nothing when it can."""
    from celery import Celery
    from celery.app.utils import find_app

    from .observe import safe_error

    os.environ[TOPOLOGY_ENV] = str(Path(source).resolve())  # the app's own configure() reads this file
    try:
        found = find_app(app)
    except Exception as exc:  # the user's module failing to import is a finding, not our crash
        reason = safe_error(exc, broker_url)
    else:
        if isinstance(found, Celery):
            return []
        reason = f"it is a {type(found).__name__}, not a Celery app"
    text = (
        f"app {app!r} cannot be loaded as `celery -A {app}` would: {reason};"
        " fix `app:` in the file, or run from the directory (PYTHONPATH) the workers run in"
    )
    return [finding("error", "app-import", text)]
