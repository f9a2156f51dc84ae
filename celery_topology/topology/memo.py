"""What is computed from a frozen topology once and kept with it (an index, the router): see `Topology.derived`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

K = TypeVar("K")
Owner = TypeVar("Owner")
T = TypeVar("T")
V = TypeVar("V")
_UNSET = object()
Build = Callable[[Any], T]  # what computes a derived value from its topology


class Memo(dict[str, Any]):
    """Derived values: never stale (the model is frozen), never part of the topology's value.

    Two topologies with different memos are still equal, a deep copy starts empty, and a pickle
    carries none of it (a router holds compiled functions).
    """

    owner: object = None  # the topology the values were computed for

    def computed(self, owner: Owner, name: str, build: Callable[[Owner], T]) -> T:
        """`build(owner)` under `name`, computed on the first call."""
        if self.owner is not owner:  # a shallow model_copy shares the memo but is another topology
            self.clear()
            self.owner = owner
        value = self.get(name, _UNSET)  # one lookup: another thread may clear it in between
        if value is _UNSET:
            value = self[name] = build(owner)
        return cast(T, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Memo)

    def __deepcopy__(self, memo: dict[int, Any]) -> Memo:
        return Memo()

    def __reduce__(self) -> tuple[type[Memo], tuple[()]]:
        return Memo, ()


def grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, list[V]]:
    """{key: its values, in order} of (key, value) pairs."""
    found: dict[K, list[V]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return found
