"""Which settings make the HTTP APIs listen anew: those that decide who is let in, or a port of the
API's own. Settings read as each request comes (history, models loaded on request) and the other
API's port leave a listener, and the streams open on it, as they are."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from hearth.api.running import Apis
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth


async def _until(condition: Callable[[], object], limit_s: float = 15) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _status(url: str, origin: str | None = None) -> int:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as answer:
        return answer.status


def test_only_settings_that_change_who_is_let_in_or_the_port_restart_a_listener() -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        services.api.use(dataclasses.replace(services.api.settings, port=0, ollama_port=0))
        apis = Apis(services)
        try:
            await apis.start()
            openai, ollama = services.api.status.url, services.api.ollama_status.url
            assert openai and ollama
            # Per-request settings: both listeners stay where they are (port 0 would move them).
            changes: list[dict[str, Any]] = [
                {"keep_history": True},
                {"load_on_request": False},
                {"pool_on_request": True},
            ]
            for change in changes:
                services.api.use(dataclasses.replace(services.api.settings, **change))
                await asyncio.sleep(0.3)
                assert (services.api.status.url, services.api.ollama_status.url) == (openai, ollama), change
            # The Ollama API switched off: the OpenAI one goes on as it was.
            services.api.use(dataclasses.replace(services.api.settings, ollama=False))
            await _until(lambda: not services.api.ollama_status.url)
            assert services.api.status.url == openai and await _status(openai + "/models") == 200
            # A web page allowed: who is let in changed, so the listeners start anew with it.
            page = "http://127.0.0.1:8080"
            assert await _status(openai + "/models", page) == 403
            services.api.use(dataclasses.replace(services.api.settings, origins=(page,), ollama=True))
            await _until(lambda: services.api.status.url != openai and services.api.ollama_status.url)
            assert await _status(services.api.status.url + "/models", page) == 200
        finally:
            await apis.stop()
            await services.stop()

    asyncio.run(scenario())
