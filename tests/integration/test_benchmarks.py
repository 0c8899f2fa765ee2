from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(name: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/<name>.py`` briefly; it must finish and exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_engine_overhead_benchmark_runs_and_prints_a_ratio(tiny_model: Path) -> None:
    result = run_benchmark(
        "engine_overhead",
        ["--model", str(tiny_model), "--rounds", "2", "--tokens", "24", "--ctx", "256"],
        timeout=180,
    )
    ratio = re.search(r"ratio engine/direct:\s+([0-9.]+)", result.stdout)
    assert ratio and float(ratio.group(1)) > 0
    # Both thread counts, each against llama-cpp-python in its own process.
    row = re.compile(r"^hearth-synthetic-tiny\S*\.gguf\s+(\d+)\s+[0-9.]+ t/s\s+[0-9.]+ t/s\s+[0-9.]+$", re.M)
    assert "1" in row.findall(result.stdout)


def test_chat_decode_benchmark_runs_hearth_chat_and_llama_cpp_python(tiny_model: Path) -> None:
    result = run_benchmark(
        "chat_decode",
        ["--model", str(tiny_model), "--rounds", "1", "--max-tokens", "16", "--ctx", "256", "--threads", "1"],
        timeout=180,
    )
    assert re.search(r"round 1: llama-cpp-python\s+[0-9.]+ tok/s.*hearth chat\s+[0-9.]+ tok/s", result.stdout)
    assert re.search(r"ratio hearth chat/llama-cpp-python: [0-9.]+", result.stdout)


def test_discovery_pairing_benchmark_runs_and_prints_times() -> None:
    result = run_benchmark("discovery_pairing", ["--runs", "1"], timeout=180)
    assert re.search(r"time to pair: median\s+[0-9.]+ ms", result.stdout)


def test_tunnel_overhead_benchmark_runs_and_prints_a_ratio(tiny_model: Path) -> None:
    result = run_benchmark(
        "tunnel_overhead",
        [
            "--model",
            str(tiny_model),
            "--plan",
            "host:0-3, A:4-5, B:6-7",
            "--rounds",
            "1",
            "--tokens",
            "16",
            "--ctx",
            "256",
        ],
        timeout=240,
    )
    ratio = re.search(r"ratio Hearth/raw:\s+([0-9.]+)", result.stdout)
    assert ratio and float(ratio.group(1)) > 0
    assert re.search(r"ratio Hearth/bare:\s+[0-9.]+", result.stdout)
    assert re.search(r"added per remote device per token vs local: raw RPC -?[0-9.]+ ms", result.stdout)
    assert re.search(r"first pooled load:\s+[0-9.]+ s;  reload: [0-9.]+ s", result.stdout)


def test_planner_solve_benchmark_prints_the_solve_time() -> None:
    result = run_benchmark("planner_solve", ["--repeat", "1"], timeout=120)
    assert re.search(r"8 devices x 80 layers: auto plan in [0-9.]+ ms", result.stdout)
    assert re.search(r"ratio auto / by memory \(predicted\): [0-9.]+", result.stdout)


def test_ui_responsiveness_benchmark_runs_and_prints_the_lag() -> None:
    result = run_benchmark("ui_responsiveness", ["--seconds", "1"], timeout=240)
    assert re.search(r"paired nodes sending telemetry: 3", result.stdout)
    lag = re.search(r"p99 event-loop lag while streaming: ([0-9.]+) ms", result.stdout)
    assert lag and float(lag.group(1)) >= 0
    assert "Fatal" not in result.stderr


def test_planner_quality_benchmark_runs_and_prints_the_ratios(tiny_model: Path) -> None:
    result = run_benchmark(
        "planner_quality",
        ["--model", str(tiny_model), "--step", "8", "--tokens", "8", "--rounds", "1", "--finalists", "2"],
        timeout=300,
    )
    assert re.search(r"auto / best measured: [0-9.]+", result.stdout)
    assert re.search(r"auto / exo \(RAM\): [0-9.]+", result.stdout)
    assert re.search(r"prediction error over all plans: median [0-9.]+ %, max [0-9.]+ %", result.stdout)


def test_api_overhead_benchmark_runs_hearth_serve_and_the_engine(tiny_model: Path) -> None:
    result = run_benchmark(
        "api_overhead",
        ["--model", str(tiny_model), "--rounds", "1", "--tokens", "16", "--ctx", "256"],
        timeout=180,
    )
    assert re.search(r"round 1: engine\s+[0-9.]+ tok/s.*API\s+[0-9.]+ tok/s", result.stdout)
    assert re.search(r"ratio API/engine: [0-9.]+", result.stdout)
    assert re.search(r"first token added: -?[0-9.]+ ms", result.stdout)


def test_mlx_benchmark_runs_both_backends_side_by_side() -> None:
    import pytest

    pytest.importorskip("mlx_lm", reason="MLX is not installed here")
    result = run_benchmark("mlx_vs_llamacpp", ["--rounds", "1", "--tokens", "8", "--ctx", "256"], timeout=300)
    assert re.search(r"round 1 mlx-lm\s+[0-9.]+\s+Hearth MLX\s+[0-9.]+\s+llama-cpp-python", result.stdout)
    ratio = re.search(r"ratio Hearth MLX / mlx-lm: ([0-9.]+)", result.stdout)
    assert ratio and float(ratio.group(1)) > 0


def test_household_routing_benchmark_compares_one_device_with_two_sharing() -> None:
    import pytest

    if sys.platform != "linux":
        pytest.skip("uses 127.0.0.2, which only Linux routes by default")
    # Answers long enough that the second request is still waiting here when beta could begin it: of
    # 8 tokens, alpha's first answer can end (and the request take its place here) before the ask.
    result = run_benchmark(
        "household_routing", ["--rounds", "1", "--requests", "2", "--tokens", "48"], timeout=300
    )
    assert re.search(r"round 1: one device [0-9.]+ s, routed [0-9.]+ s", result.stdout), result.stdout
    ratio = re.search(r"ratio one device/routed: ([0-9.]+)", result.stdout)
    assert ratio and float(ratio.group(1)) > 0, result.stdout
    sent = re.search(r"answers beta gave for alpha in all: (\d+)", result.stdout)
    assert sent and int(sent.group(1)) >= 1, result.stdout


def test_household_network_benchmark_measures_each_side_over_a_shaped_link(tiny_model: Path) -> None:
    import os
    import shutil

    import pytest

    if not (sys.platform == "linux" and os.geteuid() == 0 and shutil.which("nsenter")):
        pytest.skip("needs Linux, root and nsenter for the household's network namespaces")
    result = run_benchmark(
        "household_network",
        [
            *("--profiles", "wifi", "--rounds", "1", "--tokens", "4"),
            *("--model", str(tiny_model), "--plan", "host:0-1,A:2-4,B:5-7"),
        ],
        timeout=420,
    )
    # Every device on the same one core, one thread each, unless asked otherwise.
    assert re.search(r"threads a device: 1 \(on cores \d+\)", result.stdout), result.stdout
    row = re.search(r"Wi-Fi\s+([0-9.]+)ms\s+([0-9.]+)ms(?:\s+[0-9.]+s){3}((?:\s+[0-9.]+){4})", result.stdout)
    assert row, result.stdout
    # The emulated link's round trip is at least the profile's least delay there and back (2 x 1 ms),
    # and the host node measured its channels across it: the hop it prices is at least that too.
    assert float(row.group(1)) >= 2.0 and float(row.group(2)) >= 2.0, result.stdout
    local, raw, hearth, _ = (float(x) for x in row.group(3).split())
    assert local > 0 and raw > 0 and hearth > 0, result.stdout
    assert re.search(r"Wi-Fi: prediction within 15%: (met|NOT met)", result.stdout), result.stdout


def test_gpu_offload_benchmark_measures_on_a_gpu_or_says_there_is_none(tiny_model: Path) -> None:
    result = run_benchmark(
        "gpu_offload",
        ["--model", str(tiny_model), "--rounds", "1", "--tokens", "16", "--ctx", "256"],
        timeout=300,
    )
    if "no GPU here" in result.stdout:
        # Only where this machine's llama.cpp lists no GPU: nothing was measured, and it says so.
        from benchmarks._common import gpus

        assert gpus() == []
        return
    assert re.search(r"ratio Hearth/llama-cpp-python on the GPU: [0-9.]+", result.stdout)
    cases = re.findall(r"^hearth-synthetic-tiny\S*\s+(local|split|pooled)\s", result.stdout, re.M)
    assert cases == ["local", "split", "pooled"]
