"""One device in the planner: its memory bar, what the plan puts there, load progress; a drop target."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget

from hearth.core.fill import fill
from hearth.core.memory import DeviceMemory
from hearth.ui import colors
from hearth.ui.layer_strip import decode_range
from hearth.ui.memory_bar import MemoryBar, Part, gib
from hearth.ui.plain import escape, plain_label


class DeviceColumn(QFrame):
    dropped = Signal(int, int, int)  # first layer, one past the last, this column's index

    def __init__(
        self, index: int, name: str, color: QColor, pool: str = "", parent: QWidget | None = None
    ) -> None:
        """``pool``: which of the device's memories the column is (a GPU's), "" where it has one."""
        super().__init__(parent)
        self.index = index
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(170)
        layout = QVBoxLayout(self)
        self.title = QLabel(f"<b>{index + 1}. {escape(name)}</b>")  # rich on purpose, the name escaped
        # The device's colour as a bar under the name, not a style sheet on the label: a label with a
        # style sheet keeps the text colour of the palette it was made under when the theme changes.
        self.underline = QFrame()
        self.underline.setFixedHeight(3)
        self.underline.setAutoFillBackground(True)
        palette = self.underline.palette()
        palette.setColor(QPalette.ColorRole.Window, color)
        self.underline.setPalette(palette)
        self.title.setWordWrap(True)  # "(this device)" is long in some languages
        self.pool = plain_label(pool)  # the GPU's name comes from its driver
        self.pool.setObjectName("columnPool")
        self.pool.setWordWrap(True)
        self.pool.setVisible(bool(pool))
        self.bar = MemoryBar(vertical=True)
        self.layers = QLabel()
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.reason = plain_label()  # names the device
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet(f"color: {colors.OVER.name()}")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        for w in (self.title, self.pool, self.layers, self.detail, self.reason):
            w.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.title)
        layout.addWidget(self.pool)
        layout.addWidget(self.underline)
        layout.addWidget(self.bar, 1, Qt.AlignmentFlag.AlignHCenter)
        for widget in (self.layers, self.detail, self.reason, self.progress):
            layout.addWidget(widget)

    def show_plan(
        self,
        layers: tuple[int, int] | None,
        memory: DeviceMemory,
        total: int,
        free: int,
        usable: int,
        over: str,
    ) -> None:
        system = max(0, total - free)
        parts = [
            Part(self.tr("System"), system, colors.SYSTEM),
            Part(self.tr("Weights"), memory.weights, colors.WEIGHTS),
            Part(self.tr("KV cache"), memory.kv, colors.KV),
            Part(self.tr("Compute"), memory.compute, colors.COMPUTE),
        ]
        self.bar.set_parts(parts, total, over=bool(over))
        if layers is None:
            self.layers.setText(self.tr("no layers"))
        else:
            self.layers.setText(fill(self.tr("layers %1–%2"), layers[0], layers[1]))
        self.detail.setText(fill(self.tr("needs %1 of %2"), gib(memory.total), gib(usable)))
        self.reason.setText(over)
        self.reason.setVisible(bool(over))

    def set_progress(self, fraction: float | None) -> None:
        self.progress.setVisible(fraction is not None)
        if fraction is not None:
            self.progress.setValue(round(fraction * 100))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if decode_range(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        layers = decode_range(event.mimeData())
        if layers is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(layers[0], layers[1], self.index)
