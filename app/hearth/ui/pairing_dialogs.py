"""Pairing as people see it: the requester waits (and can cancel), then types the code the other
device shows; the acceptor shows the code, large."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from hearth.core.fill import fill
from hearth.service.devices import CodeShown, PairingAttempt
from hearth.service.root import Hearth
from hearth.ui.plain import plain_label
from hearth.ui.tasks import describe, spawn


class PairDialog(QDialog):
    """Asks a device to pair; shows progress, takes the code, reports the outcome."""

    def __init__(self, services: Hearth, target: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.attempt: PairingAttempt | None = None
        self.setWindowTitle(fill(self.tr("Pair with %1"), name))
        self.message = plain_label(fill(self.tr("Asking %1… A code appears on that device."), name))
        self.message.setWordWrap(True)
        self.code = QLineEdit()
        self.code.setPlaceholderText(self.tr("6-digit code"))
        self.code.setMaxLength(7)
        self.code.setEnabled(False)
        self.code.returnPressed.connect(self.submit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(self.tr("Pair"))
        self.ok.setEnabled(False)
        self.ok.clicked.connect(self.submit)
        self.ok.setDefault(True)
        # Enter in the code field submits; Cancel must not become the default when the field is
        # disabled during the check and the focus lands on it, or that same Enter would cancel.
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAutoDefault(False)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.message, self.code, self.buttons):
            layout.addWidget(w)
        self.task: asyncio.Task[Any] | None = spawn(services.devices.pair(target), self._failed, self._asked)

    def _asked(self, attempt: PairingAttempt) -> None:
        self.attempt = attempt
        self.task = None
        self.message.setText(fill(self.tr("Type the code shown on %1."), attempt.peer_name))
        self.code.setEnabled(True)
        self.ok.setEnabled(True)
        self.code.setFocus()

    def submit(self) -> None:
        if self.attempt is None or self.task is not None:
            return
        code = self.code.text().replace(" ", "")
        self.ok.setEnabled(False)
        self.code.setEnabled(False)
        self.message.setText(self.tr("Checking the code…"))
        self.task = spawn(
            self.services.devices.finish_pairing(self.attempt, code), self._failed, self._paired
        )

    def _paired(self, device: Any) -> None:
        self.task = None
        self.attempt = None
        self.message.setText(fill(self.tr("Paired with %1."), device.name))
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.attempt = None
        self.message.setText(fill(self.tr("Pairing failed: %1"), describe(exc)))
        self.code.setEnabled(False)
        self.ok.setEnabled(False)

    def reject(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.attempt is not None:
            spawn(self.attempt.close())
        super().reject()


class CodeDialog(QDialog):
    """Shown on the device being asked: the code to type on the other one."""

    def __init__(self, shown: CodeShown, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shown = shown
        self.setWindowTitle(self.tr("Pairing request"))
        who = plain_label(
            fill(self.tr("%1 wants to pair with this device. Type this code there:"), shown.requester_name)
        )
        who.setWordWrap(True)
        self.code = QLabel(f"{shown.code[:3]} {shown.code[3:]}")
        font = QFont(self.font())
        font.setPointSize(36)
        font.setBold(True)
        self.code.setFont(font)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel(
            fill(
                self.tr("Only pair with devices you own. The code is valid for %1 seconds."),
                f"{shown.expires_in:.0f}",
            )
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (who, self.code, note, buttons):
            layout.addWidget(w)
