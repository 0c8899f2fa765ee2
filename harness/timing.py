"""How long tests and scripts wait: every latency bound in the harness goes through ``scaled``.

A slower or busier machine than the ones the bounds were chosen on (an emulated CPU, a shared CI
runner) sets ``HEARTH_TEST_TIME_FACTOR`` (for example 3) instead of having each bound edited.
"""

from __future__ import annotations

import os

ENV = "HEARTH_TEST_TIME_FACTOR"


def factor() -> float:
    """The factor every bound is multiplied by; 1 unless the environment says otherwise."""
    raw = os.environ.get(ENV, "")
    try:
        value = float(raw) if raw else 1.0
    except ValueError:
        raise ValueError(f"{ENV}={raw!r} is not a number (try 2 or 3)") from None
    if not 0 < value <= 100:
        raise ValueError(f"{ENV}={raw!r} is out of range: give a factor above 0 and at most 100")
    return value


def scaled(seconds: float) -> float:
    return seconds * factor()
