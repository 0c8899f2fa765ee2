"""Ctrl+Q quits, and Help → Keyboard shortcuts lists the keys the window answers to."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from harness.windows import close_window, open_window, run, until


def test_ctrl_q_quits_and_the_sheet_lists_it(qtbot, loop) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            quits: list[bool] = []
            window.quit_requested.connect(lambda: quits.append(True))
            window.activateWindow()
            await until(window.isActiveWindow, what="the window active")
            QTest.keyClick(window.chat.composer, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
            await until(lambda: quits, what="Ctrl+Q heard")

            menus = [a.text() for a in window.menuBar().actions()]
            assert menus == ["&Hearth", "&Help"]
            window.shortcuts_action.trigger()
            sheet = window.shortcuts_sheet
            await until(sheet.isVisible, what="the shortcuts sheet")
            shown = [label.text() for label in sheet.findChildren(QLabel)]
            assert "<b>Ctrl+Q</b>" in shown and "Quit Hearth" in shown
            assert "Send the message (in the chat)" in shown
            assert any("Ctrl+1 … 5" in text for text in shown)
        finally:
            await close_window(services, window)

    run(loop, scenario())
