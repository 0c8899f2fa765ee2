"""llama.cpp's backends as Hearth loads them: the CPU variant that fits this CPU, never the AMX one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hearth.core.repack import rules_for
from hearth.engine import backends


def test_the_cpu_variant_is_the_best_that_runs_here_and_never_the_amx_one() -> None:
    found = backends.load()
    assert "CPU" in found.registered and "RPC" in found.registered
    variants, _ = backends.module_files(Path(found.directory), "cpu")
    if not variants:
        pytest.skip("this llama.cpp has its CPU backend compiled in (built without GGML_BACKEND_DL)")
    names = {backends.variant_name(p) for p in variants}
    # One module per level: x86-64's, Arm Linux's or Apple's, as ggml's CMake lists them.
    assert {"x64", "haswell"} <= names or "armv8.0_1" in names or "apple_m1" in names, names
    scores = {
        backends.variant_name(p): backends.score(p)
        for p in variants
        if backends.variant_name(p) not in backends.SKIPPED_CPU_VARIANTS
    }
    assert scores[found.cpu_variant] == max(scores.values()) > 0, scores
    if "sapphirerapids" in names:  # built only for x86 with GCC or Clang
        assert any(s.startswith("sapphirerapids: ") and "20824" in s for s in found.skipped)
    if sys.platform == "linux":
        maps = Path("/proc/self/maps").read_text()
        assert f"libggml-cpu-{found.cpu_variant}.so" in maps
        assert "libggml-cpu-sapphirerapids" not in maps  # not even opened to be scored


def test_the_reported_features_are_the_loaded_variants_and_decide_repacking() -> None:
    found = backends.load()
    features = backends.cpu_features()
    assert features.get("REPACK") == "1", features
    levels = {"haswell": "AVX2", "skylakex": "AVX512", "icelake": "AVX512_VNNI", "zen4": "AVX512_BF16"}
    if found.cpu_variant in levels:
        assert features.get(levels[found.cpu_variant]) == "1", features
    if found.cpu_variant in ("x64", "sse42"):
        assert "AVX2" not in features
    # AVX2 is what every x86 repacking kernel needs; Arm's need its dot-product instructions.
    rules = rules_for(features, local_loads=not backends.gpu_host_buffers())
    x86_kernels = features.get("AVX2") == "1"
    arm_kernels = features.get("NEON") == "1" and "1" in (
        features.get("DOTPROD"),
        features.get("MATMUL_INT8"),
    )
    assert ("Q4_0" in rules.types) == (x86_kernels or arm_kernels), features
    assert backends.repack_rules() == rules
    assert "CPU_REPACK" in backends.cpu_weight_buffers()
