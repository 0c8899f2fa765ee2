"""The API for other apps after a start that failed: applying the same settings again tries again,
and its own reports of the failure never make it retry by itself."""

from __future__ import annotations

import asyncio
import socket
import time

from hearth.api.openai_http import OpenAiApi
from hearth.service.events import Event
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth
from hearth.store.settings import ApiSettings


async def _until(condition: object, within_s: float = 15) -> None:
    deadline = time.monotonic() + within_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _answers(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def test_a_start_that_failed_is_tried_again_with_the_same_settings(hearth_home) -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    options = NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False)
    services = Hearth(options, api_settings=ApiSettings(port=port))
    api = OpenAiApi(services)
    reports: list[str] = []

    def note(what: Event) -> None:
        if what is Event.API:
            reports.append(services.api.status.error)

    services.events.subscribe(note)
    try:
        await api.start()
        assert f"cannot listen on 127.0.0.1:{port}" in services.api.status.error
        # Its own report of the failure asks for nothing: no retry behind the user's back.
        await asyncio.sleep(0.3)
        assert len(reports) == 1
        # Applied again while the port is still taken: one more try, which says so again.
        settings = services.api.settings
        assert services.api.set_settings(port=port) == settings
        await _until(lambda: len(reports) >= 4)  # the request, the stop, the failed start
        await asyncio.sleep(0.3)
        assert len(reports) == 4 and f"cannot listen on 127.0.0.1:{port}" in reports[-1]
        blocker.close()
        # The port is free now; the same settings once more, and the API listens there.
        assert services.api.set_settings(port=port) == settings
        await _until(lambda: services.api.status.url)
        assert services.api.status.url == f"http://127.0.0.1:{port}/v1" and not services.api.status.error
        assert (await _answers(port)).startswith(b"HTTP/1.1 200")
        # Listening, the same settings again leave it alone.
        served = api._runner
        services.api.set_settings(port=port)
        await asyncio.sleep(0.3)
        assert api._runner is served
    finally:
        blocker.close()
        await api.stop()
