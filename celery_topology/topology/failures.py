"""The keys that say what happens to failed work: `dead_letter` (defaults and routes) and `max_worker_losses`.

What uses them: `runtime/deadletter.py` (capture), `runtime/losses.py` (worker losses),
`cluster/deadletters.py` (the store as `celery-topology dead` sees it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from .base import STRICT
from .grammar import Duration

# What reaches the dead-letter store: tasks whose retries are used up, every failed task
# (non-retryable errors too), or nothing.
DeadLetter = Literal["exhausted", "any_failure", "off"]


class DeadLetterPolicy(BaseModel):
    """`dead_letter: {when, keep, keep_args}`; the string form is the shorthand for `when`.
    On a route, the keys given override the defaults' one by one."""

    model_config = STRICT

    when: DeadLetter | None = None  # default exhausted
    keep: Duration | None = None  # how long a record stays (from 1 s); default 7d
    keep_args: bool | None = None  # false: arguments are never stored (the task cannot be replayed); default true

    @field_validator("keep")
    @classmethod
    def _at_least_a_second(cls, keep: int | None) -> int | None:
        if keep == 0:
            raise ValueError("keep must be at least 1s (use when: off to keep nothing)")
        return keep


def _when_shorthand(value: Any) -> Any:
    return {"when": value} if isinstance(value, str) else value


DeadLetterField = Annotated[DeadLetterPolicy, BeforeValidator(_when_shorthand)]
LossCount = Annotated[int, Field(ge=1, le=100)]  # worker losses before a task is dead-lettered
