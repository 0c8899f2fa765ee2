"""Devices: a card for this device and for every paired or visible one, with live memory."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.service.device_view import DeviceView
from hearth.service.devices import Neighbour
from hearth.service.errors import ServiceError
from hearth.service.root import Hearth
from hearth.ui import colors
from hearth.ui.memory_bar import MemoryBar, Part, gib, number
from hearth.ui.pairing_dialogs import PairDialog
from hearth.ui.plain import confirm, escape, plain_label
from hearth.ui.tasks import describe, spawn


class DeviceCard(QFrame):
    pair_clicked = Signal(str, str)
    forget_clicked = Signal(str, str)

    def __init__(self, device_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device_id = device_id
        self.name = ""
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()  # rich on purpose: the name in it is escaped
        self.info = plain_label()  # the peer's own words for its system and accelerator
        self.info.setWordWrap(True)
        self.bar = MemoryBar()
        self.memory = plain_label()
        self.state = plain_label()
        self.state.setWordWrap(True)
        self.pair_button = QPushButton(self.tr("Pair…"))
        self.pair_button.clicked.connect(lambda: self.pair_clicked.emit(self.device_id, self.name))
        self.forget_button = QPushButton(self.tr("Forget"))
        self.forget_button.clicked.connect(lambda: self.forget_clicked.emit(self.device_id, self.name))
        buttons = QHBoxLayout()
        buttons.addWidget(self.state, 1)
        buttons.addWidget(self.pair_button)
        buttons.addWidget(self.forget_button)
        self.gpus = QVBoxLayout()  # a bar for each GPU with memory of its own
        self.gpu_bars: list[tuple[QLabel, MemoryBar]] = []
        layout = QVBoxLayout(self)
        for w in (self.title, self.info, self.bar, self.memory):
            layout.addWidget(w)
        layout.addLayout(self.gpus)
        layout.addLayout(buttons)

    def show_row(self, row: DeviceView) -> None:
        self.name = row.name
        mine = row.this_device
        badge = self.tr(" (this device)") if mine else ""
        self.title.setText(f"<b>{escape(self.name)}</b>{escape(badge)} <small>{escape(row.short_id)}</small>")
        self.info.setText(" · ".join(x for x in (row.os, row.accelerator) if x))
        total = row.memory_total
        free = row.memory_free
        donated = row.donated_bytes or 0
        if free is None:
            self.bar.set_parts([], max(total, 1))
            self.memory.setText(fill(self.tr("%1 memory"), gib(total)) if total else "")
        else:
            used = max(0, total - free)
            shared = min(donated, free)
            self.bar.set_parts(
                [
                    Part(self.tr("Used"), used, colors.SYSTEM),
                    Part(self.tr("Donated"), shared, colors.DONATED),
                ],
                total,
            )
            text = fill(self.tr("%1 used · %2 free of %3"), gib(used), gib(free), gib(total))
            if donated:
                text += " · " + fill(self.tr("donates %1"), gib(donated))
            if any(c.accelerator for c in row.compute):
                text = fill(self.tr("RAM: %1"), text)
            self.memory.setText(text)
        self._show_gpus(row)
        self.pair_button.setVisible(not mine and not row.paired)
        self.pair_button.setEnabled(row.online)
        self.forget_button.setVisible(not mine and row.paired)
        if mine:
            state = self.tr("Donating to paired devices") if donated else self.tr("Not donating")
        elif row.paired and row.connected:
            state = fill(self.tr("Paired · connected · %1 ms"), number(row.latency_ms or 0))
        elif row.paired:
            state = self.tr("Paired · not reachable")
            if row.error:
                state += f" ({row.error})"
        else:
            state = self.tr("Not paired") if row.online else self.tr("Not paired · offline")
        offer = row.answers
        if offer is not None and (mine or row.connected):
            said = (
                self.tr("answers paired devices' apps with %1")
                if mine
                else self.tr("answers your apps with %1")
            )
            state += " · " + fill(said, offer.model)
            state += " " + fill(self.tr("(%1 of %2 places taken)"), offer.answering, offer.at_once)
        elif row.loadable and (mine or row.connected):
            said = (
                self.tr("idle · would load %1 for paired devices' apps")
                if mine
                else self.tr("idle · would load %1 for your apps")
            )
            names = ", ".join(row.loadable[:2]) + (", …" if len(row.loadable) > 2 else "")
            state += " · " + fill(said, names)
        self.state.setText(state)

    def _show_gpus(self, row: DeviceView) -> None:
        gpus = [c for c in row.compute if c.accelerator]
        while len(self.gpu_bars) > len(gpus):
            label, bar = self.gpu_bars.pop()
            label.deleteLater()
            bar.deleteLater()
        while len(self.gpu_bars) < len(gpus):
            label, bar = plain_label(), MemoryBar()  # the GPU's name comes from its driver
            label.setWordWrap(True)
            label.setObjectName("gpuMemory")
            self.gpus.addWidget(label)
            self.gpus.addWidget(bar)
            self.gpu_bars.append((label, bar))
        # While it donates: what its workers may use of each GPU, in the same order.
        lent = [c.memory_total for c in row.served if c.accelerator]
        for i, ((label, bar), gpu) in enumerate(zip(self.gpu_bars, gpus, strict=True)):
            name = gpu.description or gpu.name
            # Unified memory is the RAM above: counted once, no bar of its own.
            bar.setVisible(not gpu.shares_ram)
            if gpu.shares_ram:
                label.setText(fill(self.tr("%1 · shares the RAM"), name))
                continue
            used = max(0, gpu.memory_total - gpu.memory_free)
            given = lent[i] if i < len(lent) else 0
            parts = [Part(self.tr("Used"), used, colors.SYSTEM)]
            if given:
                parts.append(Part(self.tr("Donated"), min(given, gpu.memory_free), colors.DONATED))
            bar.set_parts(parts, gpu.memory_total)
            text = fill(
                self.tr("%1 · GPU memory: %2 used · %3 free of %4"),
                name,
                gib(used),
                gib(gpu.memory_free),
                gib(gpu.memory_total),
            )
            if given:
                text += " · " + fill(self.tr("donates %1"), gib(given))
            label.setText(text)


class DevicesPage(QWidget):
    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.cards: dict[str, DeviceCard] = {}
        self.dialog: PairDialog | None = None
        add = QPushButton(self.tr("Add by address…"))
        add.clicked.connect(lambda: self.add_by_address())
        self.status = plain_label()
        self.status.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(QLabel(self.tr("Devices in this home appear here by themselves.")), 1)
        header.addWidget(add)
        self.grid = QGridLayout()
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.addLayout(self.grid)
        outer.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the cards' buttons take the keyboard, not the frame
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def refresh(self) -> None:
        rows = self.services.devices.listed()
        ids = [r.device_id for r in rows]
        for gone in set(self.cards) - set(ids):
            self.cards.pop(gone).deleteLater()
        for i, row in enumerate(rows):
            card = self.cards.get(row.device_id)
            if card is None:
                card = DeviceCard(row.device_id)
                card.pair_clicked.connect(self.pair)
                card.forget_clicked.connect(self.forget)
                self.cards[row.device_id] = card
            self.grid.addWidget(card, i // 2, i % 2)
            card.show_row(row)

    def pair(self, device_id: str, name: str) -> None:
        self.dialog = PairDialog(self.services, device_id, name, self)
        self.dialog.finished.connect(lambda _: self.refresh())
        self.dialog.open()

    def forget(self, device_id: str, name: str) -> None:
        if confirm(
            self,
            fill(self.tr("Forget %1?"), name),
            fill(self.tr("%1 will no longer be trusted; pairing again needs a new code."), name),
        ):
            with contextlib.suppress(ServiceError):  # already forgotten elsewhere (`hearth forget`)
                self.services.devices.forget(device_id)
            self.refresh()

    def _address_given(self, text: str) -> None:
        if text.strip():
            self.add_by_address(text)

    def add_by_address(self, address: str | None = None) -> None:
        if not address:
            # Asked without a nested event loop: the node keeps running while the box is open.
            box = QInputDialog(self)
            box.setWindowTitle(self.tr("Add a device"))
            box.setLabelText(self.tr("Address (host:port) of a device running Hearth"))
            box.textValueSelected.connect(self._address_given)
            box.finished.connect(box.deleteLater)
            self.address_box = box
            box.open()
            return

        def found(neighbour: Neighbour) -> None:
            self.status.setText(fill(self.tr("Found %1"), neighbour.name))
            self.refresh()

        spawn(
            self.services.devices.add_address(address.strip()),
            lambda exc: self.status.setText(fill(self.tr("Could not add it: %1"), describe(exc))),
            found,
        )
