"""The planner page against a real donating node: dragging, dropping, keys, red bars, live memory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from harness.windows import ask_greedily, close_window, open_window, pair_through_dialog, run, until
from hearth.core.plan import HOST
from hearth.core.profile import read_profile
from hearth.service.chat import MessageStatus
from hearth.service.device_view import DeviceView
from hearth.ui.layer_strip import encode_range


def _mouse(widget, kind: QEvent.Type, x: float, buttons: Qt.MouseButton) -> None:
    pos = QPointF(x, widget.height() / 2)
    event = QMouseEvent(
        kind, pos, widget.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def _drag(widget, x0: float, x1: float) -> None:
    left = Qt.MouseButton.LeftButton
    _mouse(widget, QEvent.Type.MouseButtonPress, x0, left)
    for step in range(1, 5):
        _mouse(widget, QEvent.Type.MouseMove, x0 + (x1 - x0) * step / 4, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, x1, Qt.MouseButton.NoButton)


def _drop(column, start: int, end: int) -> None:
    """What Qt delivers when a selection dragged from the strip is let go over ``column``."""
    mime = encode_range(start, end)
    at = QPoint(column.width() // 2, column.height() // 2)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at, Qt.DropAction.MoveAction, mime, buttons, mods)
    column.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(at), Qt.DropAction.MoveAction, mime, buttons, mods)
    column.dropEvent(drop)
    assert drop.isAccepted()


def test_plan_edits_by_mouse_drop_and_keys(qtbot, loop, donor, tiny_model: Path) -> None:
    profile = read_profile(str(tiny_model))

    async def scenario() -> None:
        services, window = await open_window()
        try:
            beta = await pair_through_dialog(window, services, donor)
            await services.models.import_file(str(tiny_model))
            page = window.planner
            window.nav.setCurrentRow(1)
            page.reload_models()
            await until(lambda: page.profile is not None and len(page.columns) == 2, what="model and columns")
            page.ctx_slider.setValue(0)  # 256: a few layers fit in what beta donates
            assert page.n_ctx == 256
            strip = page.strip
            strip.resize(900, 48)
            draft = page.draft
            assert draft is not None and draft.devices == [HOST, beta]

            # Keyboard: select layers 5-7 and send them to column 2 (beta).
            strip.setFocus()
            strip.current = strip._anchor = 5
            QTest.keyClick(strip, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
            QTest.keyClick(strip, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
            QTest.keyClick(strip, Qt.Key.Key_2)
            assert str(draft.plan()) == f"host:0-4,{beta}:5-7"
            weights = page.columns[1].bar.parts[1]
            assert weights.bytes == sum(profile.layer_bytes[5:8])

            # Mouse: drag the boundary from 5 to 7.
            x0 = strip.boundary_x(0, 1)
            _drag(strip, x0, 7 * strip.cell_width())
            assert str(draft.plan()) == f"host:0-6,{beta}:7"
            assert page.columns[1].bar.parts[1].bytes == profile.layer_bytes[7]
            assert page.load_button.isEnabled()

            # Drop layers 3-4 onto beta's column: beta now holds three layers.
            _drop(page.columns[1], 3, 5)
            assert draft.counts == [5, 3]
            assert page.columns[1].layers.text().endswith("5–7")

            # Something that is not a layer range is refused.
            foreign = QMimeData()
            foreign.setText("3-5")
            enter = QDragEnterEvent(
                QPoint(1, 1),
                Qt.DropAction.MoveAction,
                foreign,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            enter.ignore()
            page.columns[0].dragEnterEvent(enter)
            assert not enter.isAccepted()

            # Keyboard boundary: Alt+Left on a host layer hands one more layer to beta.
            strip.current = 0
            QTest.keyClick(strip, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
            assert draft.counts == [4, 4]

            # A longer context overflows what beta donates: red, the reason, Load disabled.
            page.ctx_slider.setValue(1)
            assert page.n_ctx == 512
            column = page.columns[1]
            assert column.bar.over
            assert "over by" in column.reason.text() and donor.name in column.reason.text()
            assert not page.load_button.isEnabled()
            page.ctx_slider.setValue(0)
            assert not column.bar.over and page.load_button.isEnabled()

            # Once the plan settles, llama.cpp's dry run sizes its compute buffers and the bars show them.
            await until(lambda: "llama.cpp" in page.speed.text(), what="llama.cpp's sizing")
            figures = await services.plans.compute(profile, draft.plan(), page.n_ctx, page.prediction.at_once)
            assert figures is not None and figures[beta] > 0
            assert column.bar.parts[3].bytes == figures[beta]
            assert page.columns[0].bar.parts[3].bytes == figures[HOST]
            # The page refreshes every second: a plan llama.cpp has sized stays sized, with no flicker.
            page.refresh_devices()
            assert "llama.cpp" in page.speed.text() and column.bar.parts[3].bytes == figures[beta]

            # Load the edited plan: beta's worker gets its layers through the tunnel, with progress.
            seen: list[dict[str, float]] = []
            shown = page._progress
            page._progress = lambda per_device: (seen.append(per_device), shown(per_device))
            page.load_button.click()
            await until(lambda: page.status.text().startswith("Loaded"), timeout=60, what="the pooled load")
            assert (
                services.serving.loaded() is not None
                and services.serving.loaded().pooled
                and list(services.serving.loaded().devices) == ["alpha", "beta"]
            )
            assert str(services.serving.loaded().plan) == f"host:0-3,{beta}:4-7"
            assert seen and seen[-1][HOST] == 1.0 and seen[-1][beta] == 1.0
            assert page.status.text() == "Loaded on alpha, beta"
            assert not any(c.progress.isVisible() for c in page.columns)

            # The chat answers from the pool and names the devices that served it.
            chat = window.chat
            await until(lambda: chat.send_button.isEnabled(), what="the chat ready")
            await ask_greedily(chat, "hello", what="the pooled answer")
            answer = chat.conversation.messages[-1]
            assert answer.text and answer.status is MessageStatus.DONE and answer.error is None
            assert chat.stats.text().endswith("alpha, beta")

            # Unloaded from elsewhere (an app's request, the tray): the Planner no longer says it is loaded.
            await services.serving.unload()
            await until(lambda: not page.status.text().startswith("Loaded"), what="the status after unload")
            assert page.load_button.isEnabled()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=90)


def test_memory_bars_follow_telemetry(qtbot, loop, donor, tiny_model: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            beta = await pair_through_dialog(window, services, donor)
            card = window.devices.cards[beta]
            seen = []

            def beta_row() -> DeviceView:
                return next(r for r in services.devices.listed() if r.device_id == beta)

            for _ in range(4):
                count = beta_row().telemetry_count

                def newer(c: int = count) -> bool:
                    return beta_row().telemetry_count > c

                await until(
                    newer,
                    timeout=3,
                    what="the next telemetry message",
                )
                await asyncio.sleep(0.4)  # the window redraws within a quarter second
                row = beta_row()
                assert row.memory_free is not None
                used = row.memory_total - row.memory_free
                assert card.bar.parts[0].bytes == used
                assert card.bar.capacity == row.memory_total
                seen.append(row.telemetry_count)
            assert seen == sorted(set(seen)) and len(seen) == 4
            assert "Paired · connected" in card.state.text()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=90)


def test_small_parts_stay_visible_on_a_big_bar() -> None:
    from hearth.ui.memory_bar import MIN_PART_PX, part_lengths

    gib = 1 << 30
    # A 282 MiB plan beside 6 GiB of system on a 20 GiB bar 160 px long.
    lengths = part_lengths([6 * gib, 282 << 20, 8 << 20], 20 * gib, 160)
    assert lengths[1] >= MIN_PART_PX and lengths[2] >= MIN_PART_PX
    assert sum(lengths) <= 160
    assert lengths[0] == 160 * 6 / 20  # the free memory made the room
    # A full bar: the big part gives up what the small one needs.
    full = part_lengths([20 * gib, 8 << 20], 20 * gib + (8 << 20), 160)
    assert full[1] == MIN_PART_PX and abs(sum(full) - 160) < 1e-6
    # Parts big enough are drawn in proportion, untouched.
    assert part_lengths([gib, gib], 4 * gib, 100) == [25.0, 25.0]


def test_the_planner_explains_its_bars_and_its_prediction(qtbot, loop, tiny_model: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            page = window.planner
            legend = ["System and other apps", "Weights", "KV cache", "Compute buffers", "Free"]
            assert page.legend.texts() == legend
            window.nav.setCurrentRow(1)
            assert page.legend.isVisible()
            window.models.import_file(str(tiny_model))
            await until(lambda: page.profile is not None and page.prediction is not None, what="a prediction")
            await until(lambda: page.basis.text().startswith("Predicted from: alpha"), what="the basis said")
            assert "last measured" not in page.speed.text()
            page.load_button.click()
            await until(lambda: services.serving.loaded() is not None and window.chat.send_button.isEnabled())
            await ask_greedily(window.chat, "hello", 8)
            await until(lambda: "last measured" in page.speed.text(), what="the measured speed beside it")
            assert "predicted" in page.speed.text()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=120)
