from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Before any QApplication exists: the tests draw into memory, never onto a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402

from hearth.core.plan import HOST  # noqa: E402
from hearth.node import NodeOptions  # noqa: E402
from hearth.services import Services  # noqa: E402
from hearth.ui.main_window import MainWindow  # noqa: E402
from nodes import NodeProcess  # noqa: E402


@pytest.fixture
def loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running on the Qt event loop, as in the app."""
    ev = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(ev)
    yield ev
    ev.close()
    asyncio.set_event_loop(None)


def run(loop: asyncio.AbstractEventLoop, coro, timeout: float = 60):
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


async def until(condition: Callable[[], object], timeout: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.05)


async def open_window(qtbot) -> tuple[Services, MainWindow]:
    services = Services(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False))
    await services.start()
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.start()
    window.show()
    return services, window


async def close_window(services: Services, window: MainWindow) -> None:
    window.hide()
    await services.stop()


@pytest.fixture
def donor(tmp_path: Path) -> Iterator[NodeProcess]:
    """A real node process on 127.0.0.2 donating 4 MiB and one thread."""
    proc = NodeProcess(
        tmp_path / "beta", "beta", "127.0.0.2", extra=["--donate", "--max-memory", "4M", "--threads", "1"]
    ).start()
    yield proc
    proc.stop()


async def pair_through_dialog(window: MainWindow, services: Services, proc: NodeProcess) -> str:
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
        lambda: any(d.key != HOST for d in services.planning_devices()), what=f"{proc.name} donating in sight"
    )
    return next(d.key for d in services.planning_devices() if d.key != HOST)
