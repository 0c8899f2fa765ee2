"""Colours the window gives devices and memory parts; the same device keeps its colour everywhere."""

from __future__ import annotations

from PySide6.QtGui import QColor

DEVICE = ["#e07a2f", "#3b82c4", "#3fa66b", "#9b59b6", "#c0392b", "#16a5a5", "#b7950b", "#7f8c8d"]
SYSTEM = QColor("#9aa0a6")
WEIGHTS = QColor("#3b82c4")
KV = QColor("#8e6bbf")
COMPUTE = QColor("#e0a030")
DONATED = QColor("#3fa66b")
OVER = QColor("#d93025")


def device_color(index: int) -> QColor:
    return QColor(DEVICE[index % len(DEVICE)])
