"""Settings → Other apps: the Ollama API's port and whether it runs are saved settings, and the running
listener follows them at once; so do the choices about loading models that apps ask for."""

from __future__ import annotations

import dataclasses
import socket

import aiohttp

from harness.windows import close_window, open_window, run, until
from hearth.api.ollama_http import OllamaApi
from hearth.store.settings import DEFAULT_OLLAMA_PORT, load_api


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _version(port: int) -> int | None:
    """The status of Ollama's version route on ``port``; None: nothing listens there."""
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/api/version", timeout=aiohttp.ClientTimeout(total=10)) as r,
        ):
            return r.status
    except aiohttp.ClientConnectorError:
        return None


def test_the_ollama_port_is_a_saved_setting_the_listener_follows(qtbot, loop) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        # Any free OpenAI port keeps this run clear of a real Hearth on the machine.
        services.api.use(dataclasses.replace(services.api.settings, port=0))
        ollama = OllamaApi(services)
        box = window.settings.other_apps
        try:
            await ollama.start()
            assert box.ollama.isChecked() and box.ollama_port.value() == DEFAULT_OLLAMA_PORT
            assert box.load_on_request.isChecked() and not box.pool_on_request.isChecked()

            port = _free_port()
            box.port.setValue(_free_port())
            box.ollama_port.setValue(port)
            box.pool_on_request.setChecked(True)
            box.apply_button.click()
            saved = load_api()
            assert saved.ollama and saved.ollama_port == port and saved.pool_on_request
            url = f"http://127.0.0.1:{port}"
            await until(lambda: services.api.ollama_status.url == url, what="the Ollama API to move")
            assert await _version(port) == 200
            await until(lambda: url in box.ollama_address.text(), what="the Ollama address shown")

            box.ollama.setChecked(False)
            assert not box.ollama_port.isEnabled()
            box.apply_button.click()
            assert not load_api().ollama
            await until(lambda: not services.api.ollama_status.url, what="the Ollama API to stop")
            assert await _version(port) is None
            await until(lambda: box.ollama_address.text() == "Off", what="the Ollama API shown off")

            box.load_on_request.setChecked(False)
            assert not box.pool_on_request.isEnabled()
            box.apply_button.click()
            assert not load_api().load_on_request
        finally:
            await ollama.stop()
            await close_window(services, window)

    run(loop, scenario())
