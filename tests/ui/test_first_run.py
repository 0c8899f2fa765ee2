"""A first run: a guide above the pages that never stands in the way, and empty pages that say what to do."""

from __future__ import annotations

from pathlib import Path

from harness.windows import close_window, open_window, run, until
from hearth.ui import welcome


def test_the_guide_leads_to_a_model_and_then_goes(qtbot, loop, tiny_model: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            guide = window.welcome
            await until(lambda: guide.isVisible(), what="the guide on an empty library")
            assert window.stack.currentWidget() is window.models and window.models.tabs.currentIndex() == 1
            await until(lambda: "alpha" in guide.device.text(), what="this device described")
            assert "Welcome to Hearth" in guide.title.text()

            # Every page is usable under it; an empty page says what to do, with the button to do it.
            window.go_to(1)
            assert window.planner.models_button.isVisible() and "No model yet" in window.planner.card.text()
            window.go_to(2)
            chat = window.chat
            assert chat.notice_box.isVisible() and "No model loaded" in chat.notice.text()
            chat.notice_button.click()
            assert window.stack.currentWidget() is window.planner
            window.planner.models_button.click()
            assert window.stack.currentWidget() is window.models

            guide.add_button.click()  # "Add another device": the Devices page
            assert window.stack.currentWidget() is window.devices and guide.step == 2
            guide.alone_button.click()  # "Choose a model": the catalog
            assert window.stack.currentWidget() is window.models and window.models.tabs.currentIndex() == 1

            window.models.import_file(str(tiny_model))  # as a download would add it
            await until(lambda: not guide.isVisible(), what="the guide to go once there is a model")
            assert not welcome.wanted()
            await until(lambda: not window.planner.models_button.isVisible(), what="the planner's button")
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_skipping_the_guide_is_remembered(qtbot, loop) -> None:
    async def once() -> bool:
        services, window = await open_window()
        try:
            await until(lambda: window.stack.currentWidget() is window.models, what="the first run")
            shown = window.welcome.isVisible()
            if shown:
                window.welcome.skip_button.click()
                assert not window.welcome.isVisible()
            return shown
        finally:
            await close_window(services, window)

    assert run(loop, once()) is True
    assert run(loop, once()) is False  # the library is still empty, but the guide was skipped
