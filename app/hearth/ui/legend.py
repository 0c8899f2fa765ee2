"""The key to the memory bars' colours, shown once above the devices' columns."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from hearth.ui import colors, theme


def _swatch(color: QColor) -> QLabel:
    box = QLabel()
    box.setFixedSize(12, 12)
    box.setStyleSheet(f"background-color: {color.name()}; border: 1px solid #80868b;")
    return box


class Legend(QWidget):
    """System, weights, KV cache, compute and free memory, each with its colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.entries: list[tuple[str, QColor]] = [
            (self.tr("System and other apps"), colors.SYSTEM),
            (self.tr("Weights"), colors.WEIGHTS),
            (self.tr("KV cache"), colors.KV),
            (self.tr("Compute buffers"), colors.COMPUTE),
            (self.tr("Free"), theme.free_color(self.palette())),
        ]
        for text, color in self.entries:
            row.addWidget(_swatch(color))
            row.addWidget(QLabel(text))
            row.addSpacing(10)
        row.addStretch(1)

    def texts(self) -> list[str]:
        return [text for text, _ in self.entries]
