"""The Qt binding keeps Python's reference counts right on the paths the window uses all the time.

A binding that drops a reference to None on every overridden Qt virtual (PySide6 6.12.0 does, for each
timer event that qasync uses to run a callback) lets a window that streams a few thousand tokens die at
exit with "Fatal Python error: none_dealloc". These checks fail long before that.
"""

from __future__ import annotations

import asyncio
import sys

from PySide6.QtCore import QCoreApplication, QEvent, QObject

ROUNDS = 4000
# Unrelated objects come and go while the loop runs; a leak grows with the rounds, these do not.
SLACK = ROUNDS // 10


class _Counting(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.timers = 0

    def timerEvent(self, event) -> None:
        self.killTimer(event.timerId())
        self.timers += 1

    def event(self, event: QEvent) -> bool:
        return super().event(event)


def test_none_survives_many_event_loop_callbacks(qapp, loop) -> None:
    async def spin() -> None:
        for _ in range(ROUNDS):
            await asyncio.sleep(0)

    before = sys.getrefcount(None)
    loop.run_until_complete(spin())
    assert sys.getrefcount(None) - before > -SLACK


def test_overridden_virtuals_keep_none_and_booleans(qapp) -> None:
    obj = _Counting()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(ROUNDS):
        QCoreApplication.sendEvent(obj, QEvent(QEvent.Type.User))
    for _ in range(ROUNDS):
        obj.startTimer(0)
    deadline = ROUNDS * 10
    while obj.timers < ROUNDS and deadline:
        QCoreApplication.processEvents()
        deadline -= 1
    assert obj.timers == ROUNDS
    assert sys.getrefcount(True) - true_before > -SLACK
    assert sys.getrefcount(None) - none_before > -SLACK
