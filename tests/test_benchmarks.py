"""The benchmarks measure what their docstrings say they measure."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from types import ModuleType

import pytest

from support import ROOT


def load_benchmark(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_routing_takes_the_best_of_its_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each figure is the best of ROUNDS interleaved rounds: every side measured ROUNDS times, the best kept."""
    routing = load_benchmark("routing")
    measured: list[float] = []
    real_rate = routing.rate

    def counted(lookup: Callable[[str], object], task_names: list[str]) -> float:
        measured.append(real_rate(lookup, task_names))
        return measured[-1]

    monkeypatch.setattr(routing, "BUDGET", 0.01)
    monkeypatch.setattr(routing, "rate", counted)
    celery_rate, ours, cold = routing.measure(5, random.Random(7))
    assert len(measured) == 3 * routing.ROUNDS
    assert celery_rate == max(measured[0::3]) and ours == max(measured[1::3]) and cold == max(measured[2::3])
