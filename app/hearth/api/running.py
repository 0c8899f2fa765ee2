"""The ways in that a running Hearth opens: the local API for the `hearth` commands, the HTTP APIs
for other apps (OpenAI's shape, and Ollama's on a port of its own). The window and `hearth serve`
open them all."""

from __future__ import annotations

from hearth.api.local import LocalApi
from hearth.api.ollama_http import OllamaApi
from hearth.api.openai_http import OpenAiApi
from hearth.service.root import Hearth


class Apis:
    def __init__(self, services: Hearth) -> None:
        self.local = LocalApi(services)
        self.http = OpenAiApi(services)
        self.ollama = OllamaApi(services)

    async def start(self) -> None:
        await self.local.start()
        await self.http.start()
        await self.ollama.start()

    async def stop(self) -> None:
        await self.ollama.stop()
        await self.http.stop()
        await self.local.stop()
