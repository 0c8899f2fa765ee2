"""A model loaded on an idle device for a paired device's app: loaded there alone, never in place of
that device's own model, and unloaded again once unused, unless that device's own chat answers with it.
A real service with a real engine on the tiny synthetic model; the keep time is shortened here."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from hearth.engine import messages as m
from hearth.service.loadable import Loadable
from hearth.service.node import NodeOptions
from hearth.service.on_demand import NotServed, Refusal
from hearth.service.root import Hearth
from hearth.service.serving_state import Idle, Loaded
from hearth.service.turns import Who

KEEP_S = 1.0


async def _until(check, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def test_a_model_loaded_for_another_device_goes_when_unused_and_stays_once_the_chat_uses_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    other = tmp_path / "second-tiny.gguf"
    shutil.copyfile(tiny_model, other)

    async def scenario() -> None:
        services = Hearth(NodeOptions(name="beta", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        watch = Loadable(
            services._node,
            services.serving,
            services.models.entries,
            lambda: services.api.settings,
            keep_s=KEEP_S,
            watch_s=0.05,
        )
        try:
            for path in (tiny_model, other):
                await services.models.import_file(str(path))
            loaded = await services.on_demand.model(tiny_model.stem, for_device=True)
            assert not loaded.pooled
            # Another device's request never replaces the model loaded here.
            with pytest.raises(NotServed) as refused:
                await services.on_demand.model(other.stem, for_device=True)
            assert refused.value.refusal is Refusal.BUSY
            assert isinstance(services.serving.state, Loaded)

            started = time.monotonic()
            watch.loaded_for_others(loaded.profile.path)
            await _until(lambda: isinstance(services.serving.state, Idle), "unloaded once unused")
            assert time.monotonic() - started >= KEEP_S

            # Loaded again for another device; then this device's own chat answers with it.
            loaded = await services.on_demand.model(tiny_model.stem, for_device=True)
            watch.loaded_for_others(loaded.profile.path)
            request = m.Generate(
                0, prompt="Once upon a time", max_tokens=400, temperature=0.0, ignore_eos=True
            )
            done = await services.serving.generate(request, lambda _: None, Who.CHAT, route=False)
            assert done.completion_tokens == 400
            await asyncio.sleep(KEEP_S * 3)
            assert isinstance(services.serving.state, Loaded), "the chat used it: it stays"
        finally:
            watch.close()
            await services.stop()

    asyncio.run(scenario())
