"""llama.cpp's dry run as the service uses it: what it cannot size is said and the estimate stands;
the engine it runs in recovers; nothing is loaded or reserved."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.service.memory_check import MemoryCheck


def test_what_llama_cpp_cannot_size_leaves_the_estimate_and_the_next_plan_is_sized(
    tiny_model: Path, caplog
) -> None:
    profile = read_profile(str(tiny_model))
    plan = parse_plan("host:0-3,desk:4-7", profile.block_count)

    async def scenario() -> tuple[object, object, object]:
        check = MemoryCheck()
        try:
            # Heads of 16 cannot use a q8_0 cache (blocks of 32): llama.cpp refuses the context.
            refused = await check.compute(profile, plan, 512, "q8_0")
            sized = await check.compute(profile, plan, 512)
            again = await check.compute(profile, plan, 512)
            return refused, sized, again
        finally:
            await check.close()

    refused, sized, again = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert refused is None
    assert "could not size" in caplog.text
    assert isinstance(sized, dict) and set(sized) == {"host", "desk"} and all(v > 0 for v in sized.values())
    assert again == sized
