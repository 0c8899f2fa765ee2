"""The models other apps see, through both HTTP APIs: the library's, with no model loaded; and the
Ollama listener following the API's settings as the OpenAI one does."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hearth.api.running import Apis
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth
from hearth.service.serving_state import Idle, Loading


async def _get(port: int, path: str) -> tuple[int, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else None


async def _until(condition: Callable[[], object], limit_s: float = 15) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_the_library_is_listed_by_both_apis_and_ollama_follows_the_settings(tiny_model: Path) -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        services.api.use(dataclasses.replace(services.api.settings, port=0))
        await services.models.import_file(str(tiny_model))
        apis = Apis(services)
        try:
            await apis.start()
            openai_port = urlsplit(services.api.status.url).port
            ollama_port = urlsplit(services.api.ollama_status.url).port
            assert openai_port and ollama_port and openai_port != ollama_port
            status, models = await _get(openai_port, "/v1/models")
            assert status == 200
            assert [(c["id"], c["state"]) for c in models["data"]] == [(tiny_model.stem, "not-loaded")]
            assert models["data"][0]["context_length"] == 512
            status, tags = await _get(ollama_port, "/api/tags")
            assert status == 200 and [t["name"] for t in tags["models"]] == [tiny_model.stem]
            status, running = await _get(ollama_port, "/api/ps")
            assert status == 200 and running == {"models": []}
            status, version = await _get(ollama_port, "/api/version")
            assert status == 200 and version["version"]
            # While a model loads, a client that starts with Hearth already sees it, marked so.
            profile = read_profile(str(tiny_model))
            plan = parse_plan(f"host:0-{profile.block_count - 1}", profile.block_count)
            services.serving._state = Loading(profile, plan, 256)
            status, models = await _get(openai_port, "/v1/models")
            assert [(c["id"], c["state"], c["context_length"]) for c in models["data"]] == [
                (tiny_model.stem, "loading", 256)
            ]
            services.serving._state = Idle()

            services.api.use(dataclasses.replace(services.api.settings, enabled=False))
            await _until(lambda: not services.api.ollama_status.url and not services.api.status.url)
            try:
                answered = await _get(ollama_port, "/api/tags")
            except OSError:
                pass
            else:
                raise AssertionError(f"the Ollama API still listens with the API switched off: {answered}")
        finally:
            await apis.stop()
            await services.stop()

    asyncio.run(scenario())
