"""An app that names another model of the library gets it loaded, once the answer under way has ended,
as Ollama and LM Studio do; unless the user has not allowed it, and never a model the library lacks."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import signal
from pathlib import Path

import aiohttp

from hearth.api.running import Apis
from hearth.core.plan import HOST, even_plan
from hearth.core.profile import read_profile
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth
from hearth.service.serving_state import Loaded

LIMIT = aiohttp.ClientTimeout(total=120)


async def _post(url: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession(timeout=LIMIT) as http, http.post(url, json=body) as answer:
        return answer.status, await answer.json(content_type=None)


def test_a_request_for_another_model_loads_it_after_the_answer_under_way(
    tiny_model: Path, tmp_path: Path
) -> None:
    other = tmp_path / "second-tiny.gguf"
    shutil.copyfile(tiny_model, other)

    async def scenario() -> None:
        services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        services.api.use(dataclasses.replace(services.api.settings, port=0))
        apis = Apis(services)
        try:
            for path in (tiny_model, other):
                await services.models.import_file(str(path))
            profile = read_profile(str(tiny_model))
            await services.serving.load(profile, even_plan(profile.block_count, [HOST]), 512)
            await apis.start()
            openai, ollama = services.api.status.url, services.api.ollama_status.url

            # An answer from the first model is under way (held where it is: a real engine, paused)
            # when an Ollama client asks for the second.
            body = {"model": tiny_model.stem, "prompt": "Once", "max_tokens": 200, "stream": True}
            async with (
                aiohttp.ClientSession(timeout=LIMIT) as http,
                http.post(openai + "/completions", json=body) as streamed,
            ):
                assert streamed.status == 200
                await streamed.content.readline()
                pid = services._engine.pid
                assert pid is not None
                os.kill(pid, signal.SIGSTOP)
                asked = asyncio.ensure_future(
                    _post(ollama + "/api/generate", {"model": other.stem, "prompt": "Once", "stream": False})
                )
                try:
                    await asyncio.sleep(1.0)
                    state = services.serving.state
                    assert (
                        not asked.done()
                        and isinstance(state, Loaded)
                        and state.served_name == tiny_model.stem
                    )
                finally:
                    os.kill(pid, signal.SIGCONT)
                lines = [
                    json.loads(line[6:]) async for line in streamed.content if line.startswith(b"data: {")
                ]
            # The first answer ended whole, then the second model came and answered.
            assert lines and not any("error" in line for line in lines), lines[-1:]
            assert lines[-1]["choices"][0]["finish_reason"] in ("stop", "length"), lines[-1]
            status, answer = await asyncio.wait_for(asked, 120)
            assert status == 200 and answer["model"] == other.stem and answer["done"], answer
            state = services.serving.state
            assert isinstance(state, Loaded) and state.served_name == other.stem
            async with aiohttp.ClientSession(timeout=LIMIT) as http, http.get(openai + "/models") as listed:
                cards = (await listed.json())["data"]
            assert [(c["id"], c["state"]) for c in cards] == [
                (other.stem, "loaded"),
                (tiny_model.stem, "not-loaded"),
            ]

            # A name the library lacks is refused, naming what is served.
            chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
            status, refused = await _post(openai + "/chat/completions", chat)
            assert status == 404 and refused["error"]["code"] == "model_not_found"
            assert other.stem in refused["error"]["message"]

            # Not allowed: the model stays as it is and the refusal says where to allow it.
            services.api.use(dataclasses.replace(services.api.settings, load_on_request=False))
            chat["model"] = tiny_model.stem
            status, refused = await _post(openai + "/chat/completions", chat)
            assert status == 404 and refused["error"]["code"] == "model_not_loaded"
            assert "Settings → Other apps" in refused["error"]["message"]
            status, refused = await _post(ollama + "/api/chat", {**chat, "stream": False})
            assert status == 404 and "Settings → Other apps" in refused["error"]
            state = services.serving.state
            assert isinstance(state, Loaded) and state.served_name == other.stem
        finally:
            await apis.stop()
            await services.stop()

    asyncio.run(scenario())
