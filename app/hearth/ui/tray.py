"""The tray icon: donate on/off, open the window, quit; the icon shows idle, donating or busy."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from hearth.service.root import Hearth
from hearth.ui import theme
from hearth.ui.app_icon import tray_icon
from hearth.ui.plain import notification_text
from hearth.ui.tasks import spawn


class Tray(QObject):
    open_requested = Signal()
    quit_requested = Signal()

    def __init__(self, services: Hearth, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.status_action = self.menu.addAction("")
        self.status_action.setEnabled(False)
        self.donate_action = QAction(self.menu)
        self.donate_action.setCheckable(True)
        self.donate_action.toggled.connect(self._donate_toggled)
        self.menu.addAction(self.donate_action)
        self.menu.addSeparator()
        self.open_action = self.menu.addAction("", self.open_requested.emit)
        self.quit_action = self.menu.addAction("", self.quit_requested.emit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.state = ""
        self.retranslate()

    def retranslate(self) -> None:
        self.donate_action.setText(self.tr("Donate compute"))
        self.open_action.setText(self.tr("Open Hearth"))
        self.quit_action.setText(self.tr("Quit"))
        self.refresh()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        if self.available():
            self.icon.show()

    def refresh(self) -> None:
        state = self.services.donation.state()
        self.donate_action.blockSignals(True)
        self.donate_action.setChecked(self.services.donation.settings.enabled)
        self.donate_action.blockSignals(False)
        if state != self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state, dark_panel=theme.is_dark()))
        text = {
            "idle": self.tr("Not donating"),
            "donating": self.tr("Donating: ready for paired devices"),
            "busy": self.tr("Donating: a paired device is using this one"),
        }[state]
        self.status_action.setText(text)
        self.icon.setToolTip("Hearth — " + text)

    def _donate_toggled(self, on: bool) -> None:
        spawn(self.services.donation.donate(on), None, lambda _: self.refresh())

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def notify(self, title: str, message: str) -> None:
        if self.available() and self.icon.isVisible():
            self.icon.showMessage(
                notification_text(title),
                notification_text(message),
                QSystemTrayIcon.MessageIcon.Information,
                120_000,
            )
