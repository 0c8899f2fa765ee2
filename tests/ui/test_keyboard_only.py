"""The whole flow from the keyboard alone: add a device, pair, plan, load and chat; every control named."""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from harness.nodes import NodeProcess
from harness.windows import close_window, open_window, run, until
from hearth.core.plan import HOST

NO = Qt.KeyboardModifier.NoModifier


def unnamed(window: QWidget) -> list[str]:
    """Controls the keyboard reaches that a screen reader could not name."""
    buddies = {label.buddy(): label.text() for label in window.findChildren(QLabel) if label.buddy()}
    out = []
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window) or w.objectName().startswith("qt_"):
            continue
        if not w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        text = w.text() if isinstance(w, QAbstractButton) else ""
        if not (w.accessibleName() or text or buddies.get(w)):
            out.append(type(w).__name__)
    return out


class Keyboard:
    """Keys go where the focus is, as they do for a person; nothing is clicked."""

    def __init__(self, window: QWidget) -> None:
        self.window = window

    @property
    def focus(self) -> QWidget | None:
        return QApplication.focusWidget()

    async def press(self, key: Qt.Key, mods: Qt.KeyboardModifier = NO) -> None:
        if self.focus is None:
            # A dialog closed: a window manager hands the window its focus back; the offscreen one does not.
            self.window.activateWindow()
            await until(lambda: self.focus is not None, what="the focus back in the window")
        focus = self.focus
        assert focus is not None, "no widget has the focus"
        QTest.keyClick(focus, key, mods)
        await asyncio.sleep(0.02)

    async def type(self, text: str) -> None:
        focus = self.focus
        assert focus is not None, "no widget has the focus"
        QTest.keyClicks(focus, text)
        await asyncio.sleep(0.02)

    async def tab_to(self, found: Callable[[QWidget | None], bool], what: str, limit: int = 60) -> None:
        for _ in range(limit):
            if found(self.focus):
                return
            await self.press(Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reached {what}; the focus is on {self.focus!r}")


def button(text: str) -> Callable[[QWidget | None], bool]:
    return lambda w: isinstance(w, QAbstractButton) and w.text() == text and w.isEnabled()


def test_pair_plan_load_and_chat_without_a_mouse(
    qtbot, loop, roomy_donor: NodeProcess, tiny_model: Path
) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            window.models.import_file(str(tiny_model))
            await until(lambda: window.planner.profile is not None, what="the model in the library")
            window.activateWindow()
            await until(lambda: QApplication.activeWindow() is window, what="the window active")
            keys = Keyboard(window)

            for row in range(5):
                await keys.press(Qt.Key(Qt.Key.Key_1 + row), Qt.KeyboardModifier.ControlModifier)
                page, focus = window.stack.currentWidget(), keys.focus
                assert window.nav.currentRow() == row
                assert page is not None and focus is not None and page.isAncestorOf(focus)
                assert not unnamed(window), (row, unnamed(window))

            # Devices: add the other device by its address, then pair with the code it shows.
            await keys.press(Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
            await keys.tab_to(button("Add by address…"), "Add by address")
            await keys.press(Qt.Key.Key_Space)
            await until(lambda: isinstance(keys.focus, QLineEdit), what="the address field")
            await keys.type(roomy_donor.address)
            await keys.press(Qt.Key.Key_Return)
            await until(lambda: len(window.devices.cards) == 2, what="the device's card")
            mark = len(roomy_donor.lines)
            await keys.tab_to(button("Pair…"), "the card's Pair button")
            await keys.press(Qt.Key.Key_Space)
            dialog = window.devices.dialog
            assert dialog is not None
            await until(lambda: keys.focus is dialog.code, timeout=20, what="the code field")
            await keys.type(await asyncio.to_thread(roomy_donor.code, mark))
            await keys.press(Qt.Key.Key_Return)
            try:
                await until(lambda: dialog.result() == dialog.DialogCode.Accepted, what="pairing")
            except AssertionError:
                raise AssertionError(dialog.message.text()) from None
            await until(lambda: len(services.plans.devices()) == 2, timeout=20, what="beta donating")
            # Added by address, unseen by mDNS: its system is known once it is connected.
            beta_row = next(d for d in services.devices.listed() if d.name == "beta")
            assert beta_row.os == platform.system()
            await until(lambda: platform.system() in window.devices.cards[beta_row.device_id].info.text())

            # Planner: the layer strip, then layers 4-7 to the second device, then Load.
            await keys.press(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            planner = window.planner
            await until(lambda: len(planner.columns) == 2, what="both devices in the planner")
            await keys.tab_to(lambda w: w is planner.strip, "the layer strip")
            for _ in range(4):
                await keys.press(Qt.Key.Key_Right)
            for _ in range(3):
                await keys.press(Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
            await keys.press(Qt.Key.Key_2)
            beta = planner.devices[1].key
            assert planner.draft is not None and str(planner.draft.plan()) == f"{HOST}:0-3,{beta}:4-7"
            await keys.tab_to(button("Load"), "Load")
            await keys.press(Qt.Key.Key_Space)
            await until(lambda: services.serving.loaded() is not None, timeout=60, what="the pooled load")
            loaded = services.serving.loaded()
            assert loaded is not None and list(loaded.devices) == ["alpha", "beta"]

            # Chat: the keyboard is in the message box; Ctrl+Enter sends.
            chat = window.chat
            await until(lambda: keys.focus is chat.composer, what="the message box focused")
            await keys.type("hello")
            await keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: chat.turn is not None, what="the answer to start")
            await until(lambda: chat.turn is None, timeout=60, what="the answer")
            question, answer = chat.conversation.messages[0], chat.conversation.messages[-1]
            assert (question.role, question.text) == ("user", "hello")
            assert answer.text and answer.status == "done"
            assert chat.stats.text().endswith("alpha, beta")
            # Tab leaves the message box for the buttons rather than typing a tab.
            await keys.tab_to(button("Send"), "Send")
            assert "\t" not in chat.composer.toPlainText()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=150)
