"""Secrets written into the file: they would end up in git. Run on the file as written (before
${VAR} expansion), so they also run when the model cannot be built."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .document import Document
from .env import REFERENCE
from .errors import Problem

SECRET_KEY = re.compile(r"passw(or)?d|secret|token|api_?key|credential", re.IGNORECASE)


_USERINFO = re.compile(r"^[a-z][a-z0-9+]*://([^@/]*)@")


# Mappings whose keys are names (task names and patterns, queues, pools, beat entries), never settings:
# `delete_old_revoked_build_api_keys` is a task, not an API key.
_IDENTIFIERS = {("routes",), ("queues",), ("pools",), ("beat", "schedule")}


def _names_mapping(path: tuple[str | int, ...]) -> bool:
    """`path` is one of those mappings, at the top or inside an environment's overlay."""
    return path[-1:] in _IDENTIFIERS or path[-2:] in _IDENTIFIERS


def is_secret(key: object, path: tuple[str | int, ...] = ()) -> bool:
    """`key` (in the mapping at `path`) names a secret (`password`, `api_key`, `token`...), whose value must come
    from the environment; a name in a mapping of names (a task `rotate_api_keys` under routes) does not."""
    return bool(SECRET_KEY.search(str(key))) and not _names_mapping(path)


_FROM_ENV = "\0"  # stands in for a value that the environment supplies


def _as_written(raw: str) -> str:
    """`raw` with each ${VAR} as a stand-in and each ${VAR:-default} as its default: the text the file itself holds."""
    return REFERENCE.sub(lambda m: m.group(3) if m.group(2) else _FROM_ENV, raw)


def literal_credentials(doc: Document) -> Iterator[Problem]:
    """A password written into the file (a ${VAR:-default}'s default included) ends up in git.

    Reads the file as written (before ${VAR} expansion), so it also runs when the model is invalid.
    """
    broker = doc.raw.get("broker") if isinstance(doc.raw, dict) else None
    for key, variable in (("url", "CELERY_BROKER_URL"), ("result_backend", "CELERY_RESULT_BACKEND")):
        raw = broker.get(key) if isinstance(broker, dict) else None
        userinfo = _USERINFO.match(_as_written(raw)) if isinstance(raw, str) else None
        password = userinfo.group(1).partition(":")[2] if userinfo else ""
        if password and password != _FROM_ENV:
            yield doc.problem(
                ("broker", key),
                f"a password is written in the file; move the URL to the environment or .env and write ${{{variable}}}",
                "literal-credentials",
            )


def literal_secrets(doc: Document) -> Iterator[Problem]:
    """A value under a key named like a secret (e.g. beat kwargs `api_key:`) must come from the environment."""
    return _secrets_in(doc, doc.raw, ())


def _secrets_in(doc: Document, value: object, path: tuple[str | int, ...]) -> Iterator[Problem]:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        written = _as_written(item).replace(_FROM_ENV, "") if isinstance(item, str) else ""
        if written and is_secret(key, path):
            yield doc.problem(
                (*path, key),
                "a secret is written in the file; put it in the environment or .env and write ${NAME} here",
                "literal-credentials",
            )
        yield from _secrets_in(doc, item, (*path, key))


def problems(doc: Document) -> list[Problem]:
    """The rules that read the file as written: they run even when the model cannot be built."""
    return [*literal_credentials(doc), *literal_secrets(doc)]
