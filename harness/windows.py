"""Driving the window from tests, benchmarks and scripts: waiting, opening, pairing."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from harness.nodes import NodeProcess
from harness.timing import scaled
from hearth.core.plan import HOST
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth
from hearth.ui.chat_page import ChatPage
from hearth.ui.main_window import MainWindow

T = TypeVar("T")


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    return loop.run_until_complete(asyncio.wait_for(coro, scaled(timeout)))


async def until(condition: Callable[[], object], timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + scaled(timeout)
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)


async def ask_greedily(
    chat: ChatPage, question: str, max_tokens: int = 8, timeout: float = 30, what: str = "the answer"
) -> None:
    """Send ``question`` from the chat page, greedy and short, and wait for the answer to end."""
    chat.temperature.setValue(0.0)
    chat.max_tokens.setValue(max_tokens)
    chat.send(question)
    await until(lambda: chat.turn is None, timeout=timeout, what=what)


async def open_window(name: str = "alpha") -> tuple[Hearth, MainWindow]:
    """This device's services on 127.0.0.1 (no mDNS) and its window, shown; ``close_window`` ends both."""
    services = Hearth(NodeOptions(name=name, host="127.0.0.1", port=0, discovery=False, probe=False))
    await services.start()
    window = MainWindow(services)
    window.start()
    window.show()
    return services, window


async def pair_with(services: Hearth, procs: list[NodeProcess], timeout: float = 20) -> None:
    """Pair with each node process (reading the code it prints) and wait for their telemetry."""
    for proc in procs:
        mark = len(proc.lines)
        attempt = await services.devices.pair(proc.address)
        await services.devices.finish_pairing(attempt, await asyncio.to_thread(proc.code, mark))
    await until(lambda: len(services.plans.devices()) == len(procs) + 1, timeout, "donors in sight")


async def close_window(services: Hearth, window: MainWindow, procs: tuple[NodeProcess, ...] = ()) -> None:
    window.hide()
    await services.stop()
    for proc in procs:
        proc.stop()
    # Delete the window now, at a point where Qt is not inside one of its handlers: left to the garbage
    # collector it would go at a random moment, perhaps while its own timer fires during a later test.
    window.deleteLater()
    await asyncio.sleep(0.05)
    gc.collect()


async def pair_through_dialog(window: MainWindow, services: Hearth, proc: NodeProcess) -> str:
    """Pair with ``proc`` the way a person does: Pair, read the code on the other device, type it."""
    from hearth.ui.pairing_dialogs import PairDialog

    mark = len(proc.lines)
    dialog = PairDialog(services, proc.address, proc.name, window)
    dialog.open()
    await until(lambda: dialog.code.isEnabled(), what="the code field")
    code = await asyncio.to_thread(proc.code, mark)
    dialog.code.setText(code)
    dialog.ok.click()
    await until(lambda: dialog.result() == dialog.DialogCode.Accepted, what="pairing to finish")
    await until(
        lambda: any(d.key != HOST for d in services.plans.devices()), what=f"{proc.name} donating in sight"
    )
    return next(d.key for d in services.plans.devices() if d.key != HOST)


def run_on_qt(main: Callable[[Path], Coroutine[Any, Any, Any]]) -> Any:
    """Outside pytest (benchmarks, scripts): ``main(tmp)`` on a qasync loop, Hearth's state in ``tmp``."""
    import qasync
    from PySide6.QtWidgets import QApplication

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEARTH_HOME"] = str(Path(tmp) / "home")
        app = QApplication.instance() or QApplication(sys.argv)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            return loop.run_until_complete(main(Path(tmp)))
