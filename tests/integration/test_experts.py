"""A mixture of experts (as Mixtral: a router and four experts a layer, two for each token) pooled over
llama.cpp's RPC path: the same greedy tokens as alone, the experts held where the plan puts them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.plans import pooled_load
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.models import synthetic

EXPERTS = synthetic.variant(
    synthetic.TINY, name="experts", n_embd=128, n_ff=256, n_expert=4, n_expert_used=2, n_ctx=1024
)


async def _greedy(client: EngineClient) -> list[int]:
    ids: list[int] = []
    request = m.Generate(0, prompt="Once upon a time", max_tokens=16, temperature=0.0, ignore_eos=True)
    await client.generate(request, lambda t: ids.append(t.id))
    return ids


def test_pooled_experts_answer_exactly_as_alone(rpc_workers: list[str], tmp_path: Path) -> None:
    path = synthetic.write_model(tmp_path / "experts.gguf", EXPERTS)
    profile = read_profile(str(path))
    assert (profile.expert_count, profile.expert_used_count) == (4, 2)
    plans = ["host:0-2,A:3-5,B:6-7", "A:0-3,B:4-7"]

    async def scenario() -> tuple[list[int], list[tuple[list[int], dict[str, int]]]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(path), n_ctx=512))
            alone = await _greedy(client)
            pooled = []
            for text in plans:
                plan = parse_plan(text, profile.block_count)
                loaded = await client.load(pooled_load(path, plan, rpc_workers))
                pooled.append((await _greedy(client), loaded.buffers))
            return alone, pooled
        finally:
            await client.close()

    alone, pooled = asyncio.run(asyncio.wait_for(scenario(), 180))
    assert len(alone) == 16
    for text, (ids, held) in zip(plans, pooled, strict=True):
        assert ids == alone, text
        plan = parse_plan(text, profile.block_count)
        for a, endpoint in zip(plan.remote, rpc_workers, strict=False):
            layers = sum(profile.layer_bytes[a.start : a.end])
            assert abs(held[f"RPC0[{endpoint}] model"] - layers) <= 0.02 * layers, (text, a, held)
