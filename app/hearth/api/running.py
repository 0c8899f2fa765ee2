"""The ways in that a running Hearth opens: the local API for the `hearth` commands, the HTTP API
for other apps. The window, `hearth node` and `hearth serve` all open both."""

from __future__ import annotations

from hearth.api.local import LocalApi
from hearth.api.openai_http import OpenAiApi
from hearth.service.root import Hearth


class Apis:
    def __init__(self, services: Hearth) -> None:
        self.local = LocalApi(services)
        self.http = OpenAiApi(services)

    async def start(self) -> None:
        await self.local.start()
        await self.http.start()

    async def stop(self) -> None:
        await self.http.stop()
        await self.local.stop()
