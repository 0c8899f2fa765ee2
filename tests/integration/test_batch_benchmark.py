"""The continuous-batching benchmark runs briefly and prints its ratios."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.test_benchmarks import run_benchmark


def test_batch_decode_benchmark_prints_the_ratio_and_the_time_to_first_token_mid_batch(
    tiny_model: Path,
) -> None:
    result = run_benchmark(
        "batch_decode",
        ["--model", str(tiny_model), "--rounds", "1", "--tokens", "16", "--ctx", "256", "--threads", "1"],
        timeout=240,
    )
    ratio = re.search(r"ratio 4 streams/1 stream:\s+([0-9.]+)", result.stdout)
    assert ratio and float(ratio.group(1)) > 0, result.stdout
    assert re.search(r"TTFT mid-batch/idle: [0-9.]+", result.stdout), result.stdout
