"""A device of the loaded plan goes away: the chat names it and the Planner proposes a plan without it."""

from __future__ import annotations

import signal
from pathlib import Path

from harness.nodes import NodeProcess
from harness.windows import ask_greedily, close_window, open_window, pair_with, run, until
from hearth.core.plan import HOST, parse_plan
from hearth.core.profile import read_profile
from hearth.service.serving_state import Lost
from hearth.store.settings import load_pooling


async def _pooled(services, donor: NodeProcess, model: Path) -> str:
    await pair_with(services, [donor])
    beta = next(d.key for d in services.plans.devices() if d.key != HOST)
    profile = read_profile(str(model))
    await services.serving.load(profile, parse_plan(f"host:0-3,{beta}:4-7", profile.block_count), 512)
    loaded = services.serving.loaded()
    assert loaded is not None and list(loaded.devices) == ["alpha", "beta"]
    return beta


def test_a_device_that_leaves_is_named_and_the_planner_proposes_the_rest(
    qtbot, loop, roomy_donor: NodeProcess, tiny_model: Path
) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            window.models.import_file(str(tiny_model))
            beta = await _pooled(services, roomy_donor, tiny_model)
            chat = window.chat
            await until(lambda: chat.send_button.isEnabled(), what="the chat ready")
            assert chat.notice_box.isHidden()

            roomy_donor.stop(signal.SIGKILL)
            await until(lambda: services.serving.loaded() is None, timeout=20, what="the pool to be given up")
            await until(lambda: not chat.notice_box.isHidden(), what="the chat to say so")
            assert "beta" in chat.notice.text() and not chat.send_button.isEnabled()

            planner = window.planner
            await until(lambda: planner.status.text().startswith("beta left"), what="the proposal")
            assert planner.draft is not None and beta not in planner.draft.devices
            assert [d.key for d in planner.devices] == [HOST] and len(planner.columns) == 1
            assert planner.load_button.isEnabled() and planner.n_ctx == 512

            chat.notice_button.click()  # "Open the Planner"
            assert window.stack.currentWidget() is planner
            planner.load_button.click()
            await until(
                lambda: services.serving.loaded() is not None, timeout=60, what="the load over what is left"
            )
            loaded = services.serving.loaded()
            assert loaded is not None and list(loaded.devices) == ["alpha"]
            assert str(loaded.plan) == "host:0-7" and not isinstance(services.serving.state, Lost)
            await until(lambda: chat.notice_box.isHidden(), what="the notice to go")
            await ask_greedily(chat, "hello", 4, what="an answer from this device alone")
            answer = chat.conversation.messages[-1]
            assert answer.text and answer.status == "done"
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=120)


def test_replanning_by_itself_when_settings_say_so(
    qtbot, loop, roomy_donor: NodeProcess, tiny_model: Path
) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            window.settings.replan.click()
            assert load_pooling().replan_automatically
            await _pooled(services, roomy_donor, tiny_model)
            roomy_donor.stop(signal.SIGKILL)
            await until(lambda: services.serving.loaded() is None, timeout=20, what="the pool to be given up")
            await until(
                lambda: services.serving.loaded() is not None, timeout=60, what="the load over what is left"
            )
            loaded = services.serving.loaded()
            assert loaded is not None and list(loaded.devices) == ["alpha"]
            await until(lambda: window.chat.send_button.isEnabled(), what="the chat ready again")
            assert window.chat.notice_box.isHidden()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=120)
