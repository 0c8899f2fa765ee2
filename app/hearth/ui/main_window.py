"""The main window: a page list on the left, the pages on the right; it follows the node's events."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QMainWindow, QMessageBox, QStackedWidget, QWidget

from hearth.mesh.pairing_endpoint import CodeShown
from hearth.service.app import Services
from hearth.service.events import Event
from hearth.ui.chat_page import ChatPage
from hearth.ui.devices_page import DevicesPage
from hearth.ui.models_page import ModelsPage
from hearth.ui.pairing_dialogs import CodeDialog
from hearth.ui.planner_page import PlannerPage
from hearth.ui.settings_page import SettingsPage
from hearth.ui.tray import ICON, Tray

# Telemetry arrives once a second per device; views redraw at most this often.
REDRAW_MS = 250


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, services: Services, tray: Tray | None = None) -> None:
        super().__init__()
        self.services = services
        self.tray = tray or Tray(services, self)
        self.setWindowTitle("Hearth")
        self.setWindowIcon(QIcon(str(ICON)))
        self.resize(1100, 720)
        self.devices = DevicesPage(services)
        self.planner = PlannerPage(services)
        self.chat = ChatPage(services)
        self.models = ModelsPage(services)
        self.settings = SettingsPage(services)
        self.nav = QListWidget()
        self.nav.setFixedWidth(150)
        self.nav.setSpacing(4)
        self.stack = QStackedWidget()
        for label, page in (
            (self.tr("Devices"), self.devices),
            (self.tr("Planner"), self.planner),
            (self.tr("Chat"), self.chat),
            (self.tr("Models"), self.models),
            (self.tr("Settings"), self.settings),
        ):
            self.nav.addItem(label)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.code_dialogs: dict[str, CodeDialog] = {}
        self._dirty: set[Event] = set()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._apply_events)
        listener = self._event
        services.listeners.append(listener)
        # The services outlive the window when it is deleted first (tests, scripts).

        def unlisten() -> None:
            if listener in services.listeners:
                services.listeners.remove(listener)

        self.destroyed.connect(unlisten)
        self.models.changed.connect(self.planner.reload_models)
        self.models.plan_requested.connect(self._plan_model)
        self.models.library_empty.connect(self._first_run)
        self.planner.loaded.connect(lambda: self.nav.setCurrentRow(2))
        self.chat.replan_requested.connect(self._replan)
        self.settings.donation_changed.connect(self.tray.refresh)
        self.tray.open_requested.connect(self.bring_up)
        self.tray.quit_requested.connect(self.quit_requested.emit)

    def start(self) -> None:
        """Fill the pages once the services run."""
        self.devices.refresh()
        self.models.reload()
        self.planner.reload_models()
        self.chat.reload_conversations()
        self.tray.show()

    def _plan_model(self, path: str) -> None:
        self.planner.reload_models(path)
        self.nav.setCurrentRow(1)

    def _replan(self) -> None:
        if self.services.model is None:
            self.planner.propose_after_loss()
        else:
            self.planner.propose_better()
        self.nav.setCurrentRow(1)

    def _first_run(self) -> None:
        self.nav.setCurrentRow(3)
        self.models.show_first_run()

    def bring_up(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def _event(self, what: Event) -> None:
        self._dirty.add(what)
        if not self._redraw.isActive():
            self._redraw.start()

    def _apply_events(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if dirty & {Event.DEVICES, Event.TELEMETRY}:
            self.devices.refresh()
            self.planner.refresh_devices()
        if Event.DEVICES in dirty and Event.MODEL not in dirty:
            self.chat.devices_changed()
        if Event.PAIRING in dirty:
            self._show_codes()
        if Event.DONATION in dirty:
            self.tray.refresh()
            self.settings.show_donation()
        if Event.MODEL in dirty:
            self.chat.model_changed()
            if self.services.model is None and self.services.lost is not None:
                self.planner.propose_after_loss()
        if dirty & {Event.API, Event.MODEL}:
            self.settings.other_apps.show_status()
        if Event.TURNS in dirty:
            self.chat.turns_changed()
        if Event.DOWNLOADS in dirty:
            self.models.downloads_changed()
        if Event.LIBRARY in dirty:
            self.models.reload()
            self.planner.reload_models()

    def _show_codes(self) -> None:
        for shown in self.services.pending_codes():
            if shown.requester_id in self.code_dialogs:
                continue
            self.code_dialogs[shown.requester_id] = dialog = CodeDialog(shown, self)
            dialog.finished.connect(lambda _, rid=shown.requester_id: self.code_dialogs.pop(rid, None))
            dialog.open()
            if not self.isVisible():
                self.tray.notify(self.tr("Pairing request"), self._code_text(shown))

    def _code_text(self, shown: CodeShown) -> str:
        return (
            self.tr("%1 wants to pair. Code: %2")
            .replace("%1", shown.requester_name)
            .replace("%2", f"{shown.code[:3]} {shown.code[3:]}")
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        donating = self.services.donation.enabled
        if donating and self.tray.available():
            event.ignore()
            self.hide()
            self.tray.notify("Hearth", self.tr("Hearth keeps donating from the tray."))
            return
        if donating:
            # Said, not asked: the box does not block the event loop, and Hearth quits when it closes.
            event.ignore()
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Hearth",
                self.tr("This desktop has no tray, so closing the window quits Hearth and stops donating."),
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.finished.connect(lambda _: self.quit_requested.emit())
            box.open()
            self.no_tray_notice = box
            return
        event.accept()
        self.quit_requested.emit()
