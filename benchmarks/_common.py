"""Shared by the benchmarks: cached synthetic models and small statistics."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from hearth import synthetic

CACHE = Path(os.environ.get("HEARTH_BENCH_CACHE", Path(__file__).resolve().parent.parent / ".hearth-cache"))


def medium_model() -> Path:
    """The medium synthetic model (about 250 MB), written once and reused."""
    path = synthetic.ensure_model(CACHE, synthetic.MEDIUM)
    return path


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
