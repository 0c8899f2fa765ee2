"""``hearth`` with no command: the window, with the node's asyncio services on the Qt event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import qasync
from PySide6.QtWidgets import QApplication, QMessageBox

from hearth.api.running import Apis
from hearth.core.errors import HearthError
from hearth.core.fill import fill
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth
from hearth.ui import i18n, platform_check, theme
from hearth.ui.app_icon import app_icon
from hearth.ui.main_window import MainWindow

log = logging.getLogger(__name__)


async def _main(app: QApplication, options: NodeOptions) -> int:
    try:
        hearth = Hearth(options)
    except HearthError as exc:  # this device's identity cannot be used: the message says what to do
        QMessageBox.critical(None, "Hearth", fill(app.translate("App", "Hearth cannot start: %1"), exc))
        return 1
    try:
        await hearth.start()
    except OSError as exc:
        QMessageBox.critical(
            None,
            "Hearth",
            fill(
                app.translate(
                    "App", "Hearth could not start its service on port %1 (is Hearth already running?): %2"
                ),
                options.port,
                exc,
            ),
        )
        await hearth.stop()
        return 1
    try:
        await _run_window(hearth)
    finally:
        await hearth.stop()
    return 0


async def _run_window(hearth: Hearth) -> None:
    api = Apis(hearth)
    await api.start()
    quit_now = asyncio.Event()
    window = MainWindow(hearth)
    window.quit_requested.connect(quit_now.set)
    window.start()
    window.show()
    signal.signal(signal.SIGINT, lambda *_: quit_now.set())
    try:
        await quit_now.wait()
    finally:
        window.hide()
        window.tray.icon.hide()
        await api.stop()


def run(options: NodeOptions) -> int:
    if (headless := platform_check.no_display()) is not None:
        print(headless, file=sys.stderr)
        return 1
    if platform_check.uses_xcb() and (missing := platform_check.missing_xcb_libraries()):
        print(platform_check.xcb_advice(missing), file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Hearth")
    app.setDesktopFileName("hearth")
    app.setWindowIcon(app_icon())
    # The tray keeps a donating device running after its window closes; quitting is explicit.
    app.setQuitOnLastWindowClosed(False)
    i18n.install(app)
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return int(loop.run_until_complete(_main(app, options)))
