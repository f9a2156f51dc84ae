"""Where a task's setting comes from: its code, or the configuration Celery copied onto it.

Celery's `Task.bind` copies each `from_config` setting (`acks_late`, `rate_limit`, `serializer`, the
time limits...) onto the task's class when no class of it sets one, so afterwards the class holds
the code's values and the configuration's alike. To decide by where a value was set, never by
comparing values, `Task.bind` is wrapped once per process (when this module is imported, which
`configure` does): before Celery's copy, it notes which of those settings the class already has
from its code (decorator options, its own class body, a `base=` class or the app's `task_cls`).
A class bound before that (its app finalized before `configure` imported this module) is judged
by value as a last resort (the README says so, under "Per-task options").
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from celery import Task

_CODE: WeakKeyDictionary[type, frozenset[str]] = WeakKeyDictionary()


def _from_code(cls: type[Task]) -> frozenset[str]:
    """The `from_config` settings `cls` has before its first bind, not counting copies made into a bound parent."""
    found = set()
    for attribute, _setting in cls.from_config:
        if getattr(cls, attribute, None) is None:
            continue
        owner = next(klass for klass in cls.__mro__ if attribute in vars(klass))
        if owner is Task:
            continue
        if owner is cls or owner not in _CODE or attribute in _CODE[owner]:
            found.add(attribute)
    return frozenset(found)


def _install() -> None:
    original = Task.bind.__func__
    if getattr(original, "_celery_topology", False):
        return

    def bind(cls: type[Task], app: Any) -> Any:
        if cls not in _CODE:
            _CODE[cls] = _from_code(cls)
        return original(cls, app)

    bind._celery_topology = True  # type: ignore[attr-defined]
    Task.bind = classmethod(bind)


_install()


def config_setting(task: Task, attribute: str) -> str | None:
    """The Celery setting `Task.bind` copies into `attribute`, or None if it copies none."""
    return dict(type(task).from_config).get(attribute)


def code_classes(task: Task) -> list[type]:
    """The classes of `task` that its code wrote, most derived first.

    That is `type(task).__mro__` before Celery's `Task`, without the class the app generates as
    `app.Task` (a subclass of `task_cls` that carries only the app); a custom `base=` or `task_cls`
    is code.
    """
    app_task = task.app.Task
    classes = []
    for klass in type(task).__mro__:
        if klass is Task:
            break
        if klass is not app_task:
            classes.append(klass)
    return classes


def set_by_code(task: Task, attribute: str) -> bool:
    """True when the task's code sets `attribute`: on the instance, or on a class its code wrote (`code_classes`)."""
    if attribute in vars(task):
        return True
    setting = config_setting(task, attribute)
    if setting is not None and type(task) in _CODE:
        return attribute in _CODE[type(task)]
    owner = next((klass for klass in code_classes(task) if attribute in vars(klass)), None)
    if owner is None:
        return False
    if setting is None:
        return True
    value = vars(owner)[attribute]  # bound before we could note it: a copied setting equals the configuration
    return value is not None and value != task.app.conf.get(setting)
