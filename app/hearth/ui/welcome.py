"""The guided start: a panel above the pages on a first run, never a dialog that stands in the way."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hearth.core.fill import fill
from hearth.service import preferences as prefs
from hearth.service.root import Hearth
from hearth.ui.memory_bar import gib
from hearth.ui.plain import plain_label

DONE = "welcome_done"


def wanted() -> bool:
    """Whether the guided start is still to be shown (until the user skips it or has a model)."""
    return prefs.read().get(DONE) != "yes"


class Welcome(QFrame):
    """Step 1: what Hearth is, this device, another device or this one alone. Step 2: pick a model."""

    add_device = Signal()  # the user wants to pair another device first
    pick_model = Signal()  # the user goes on with a model for the devices there are

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.text = plain_label()  # holds paired devices' names
        self.text.setWordWrap(True)
        self.device = plain_label()  # this device's name, as the user or its hostname gave it
        self.add_button = QPushButton(self.tr("Add another device"))
        self.add_button.clicked.connect(self._add)
        self.alone_button = QPushButton(self.tr("Choose a model"))
        self.alone_button.clicked.connect(self._alone)
        self.skip_button = QPushButton(self.tr("Skip"))
        self.skip_button.setToolTip(self.tr("Hide this guide; it does not come back"))
        self.skip_button.clicked.connect(self.finish)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.alone_button)
        buttons.addStretch(1)
        buttons.addWidget(self.skip_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.device)
        layout.addLayout(buttons)
        self.step = 1
        self._show_step()

    def _show_step(self) -> None:
        self.title.setText("<b>" + self.tr("Welcome to Hearth") + "</b>")
        paired = [d.name for d in self.services.devices.listed() if d.paired and not d.this_device]
        self.add_button.setVisible(not paired)
        if self.step == 1 and paired:
            # Another device is there already: the guide goes on to the model, not to pairing again.
            self.text.setText(
                fill(
                    self.tr("Paired with %1. Choose a model: Hearth plans it over the devices you have."),
                    ", ".join(paired),
                )
            )
        elif self.step == 1:
            self.text.setText(
                self.tr(
                    "Hearth runs AI models on the computers in your home and pools them when one is not "
                    "enough. Nothing you type leaves your home. Start with this device alone, or add "
                    "another one first: it needs Hearth running too."
                )
            )
        else:
            self.text.setText(
                self.tr(
                    'Pick a model on the Catalog tab: those marked "fits this device" run here alone, '
                    "the others need paired devices. Download it, then Plan and chat."
                )
            )
        self._show_this_device()

    def show_device(self) -> None:
        """Say this device's name and memory, and which devices are paired already."""
        if self.step == 1:
            self._show_step()
            return
        self._show_this_device()

    def _show_this_device(self) -> None:
        me = next((d for d in self.services.devices.listed() if d.this_device), None)
        if me is None:
            self.device.setText("")
            return
        free = gib(me.memory_free or 0)
        self.device.setText(fill(self.tr("This device: %1 · %2 free · %3"), me.name, free, me.accelerator))

    def _add(self) -> None:
        self.step = 2
        self._show_step()
        self.add_device.emit()

    def _alone(self) -> None:
        self.step = 2
        self._show_step()
        self.pick_model.emit()

    def finish(self) -> None:
        """Done with the guide (skipped, or a model arrived): hide it for good."""
        prefs.write(DONE, "yes")
        self.hide()
