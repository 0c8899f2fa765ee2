"""Other apps and the window: the chat says when the model answers another app, and Settings → Other
apps changes the real HTTP API (address, key) at once."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from pathlib import Path

import aiohttp

from harness.windows import close_window, open_window, run, until
from hearth.api.openai_http import OpenAiApi
from hearth.core.plan import HOST, even_plan
from hearth.core.profile import read_profile
from hearth.store.settings import load_api


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _models(url: str, key: str = "") -> tuple[int, list | None]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as http, http.get(url + "/models", headers=headers) as answer:
        return answer.status, (await answer.json())["data"] if answer.status == 200 else None


def test_the_chat_shows_when_another_app_is_answered(qtbot, loop, tiny_model: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        services.api.use(dataclasses.replace(services.api.settings, port=0))
        api = OpenAiApi(services)
        try:
            await api.start()
            profile = read_profile(str(tiny_model))
            await services.serving.load(profile, even_plan(profile.block_count, [HOST]), 2048)
            body = {"model": tiny_model.stem, "prompt": "Once", "max_tokens": 2000, "stream": True}
            activity = window.chat.activity
            async with (
                aiohttp.ClientSession() as http,
                http.post(services.api.status.url + "/completions", json=body) as answer,
            ):
                assert answer.status == 200
                await answer.content.readline()
                # Hold the answer where it is (a real engine process, paused), so that it is surely
                # still running while the window is looked at.
                pid = services._engine.pid
                assert pid is not None
                os.kill(pid, signal.SIGSTOP)
                try:
                    await until(lambda: not activity.isHidden(), what="the activity line")
                    assert "another app" in activity.text()
                finally:
                    os.kill(pid, signal.SIGCONT)
            # The client left: its answer stops and the line goes.
            await until(lambda: activity.isHidden(), what="the activity line to go")
            assert services.serving.queue().serving is None
        finally:
            await api.stop()
            await close_window(services, window)

    run(loop, scenario())


def test_settings_change_the_running_api_and_a_new_key_replaces_the_old(
    qtbot, loop, tiny_model: Path
) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        services.api.use(dataclasses.replace(services.api.settings, port=0))
        api = OpenAiApi(services)
        box = window.settings.other_apps
        try:
            await api.start()
            # Through the page: another port, history kept; saved, and the API moves at once.
            port = _free_port()
            box.port.setValue(port)
            box.keep_history.setChecked(True)
            box.apply_button.click()
            assert load_api().port == port and load_api().keep_history
            await until(lambda: services.api.status.url == f"http://127.0.0.1:{port}/v1", what="the move")
            await until(lambda: f"127.0.0.1:{port}" in box.address.text(), what="the new address shown")
            assert "this device only" in box.address.text() and "Authorization" not in box.example.text()
            assert await _models(services.api.status.url) == (200, [])

            # Open beyond 127.0.0.1, every request needs the key the page shows.
            services.api.set_settings(host="127.0.0.4")
            await until(lambda: services.api.status.url.startswith("http://127.0.0.4:"), what="the move")
            await until(lambda: box.key.text().startswith("hearth-"), what="the key shown")
            await until(lambda: "Authorization" in box.example.text(), what="the example with the key")
            old = box.key.text()
            url = services.api.status.url
            assert await _models(url) == (401, None)
            assert await _models(url, old) == (200, [])  # nothing loaded yet, but let in
            box.regenerate.click()
            await until(lambda: box.key.text() != old, what="a new key")
            new = box.key.text()
            await until(lambda: api.key == new, what="the API to take the new key")
            assert await _models(url, old) == (401, None)
            assert await _models(url, new) == (200, [])
        finally:
            await api.stop()
            await close_window(services, window)

    run(loop, scenario())
