"""Hearth's own icon and the tray's, drawn from the SVGs in the top-level ``resources/`` folder at any
size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

_PACKAGE = Path(__file__).resolve().parents[1]


def find_resources() -> Path:
    """The folder holding Hearth's icons. An installed wheel and the PyInstaller bundle put it beside
    the package (the build backend copies data folders whole, so it cannot go inside); a source
    checkout keeps it in the top-level ``resources/``."""
    candidates = (
        _PACKAGE.parent / "hearth_resources",
        _PACKAGE.parents[1] / "resources" / "hearth_resources",
    )
    for folder in candidates:
        if (folder / "hearth.svg").is_file():
            return folder
    raise FileNotFoundError(f"Hearth's icons are missing: none of {', '.join(map(str, candidates))}")


RESOURCES = find_resources()
APP_SVG = RESOURCES / "hearth.svg"
TRAY_SVG = RESOURCES / "tray.svg"
STATES = ("idle", "donating", "busy")
STATE_COLORS = {"idle": "#9aa0a6", "donating": "#3fa66b", "busy": "#e0a030"}
# The house in the tray: dark on a light panel, light on a dark one.
HOUSE = {False: "#3b2f2a", True: "#f3e9e4"}


def svg_pixmap(svg: bytes, size: int) -> QPixmap:
    """An SVG drawn into a square of ``size`` pixels, smooth, on a transparent background."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(svg)).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def svg_icon(svg: bytes, sizes: tuple[int, ...] = (16, 24, 32, 48, 64)) -> QIcon:
    """An SVG as an icon drawn at each size, so that a 1× or a 2× screen gets sharp pixels."""
    icon = QIcon()
    for size in sizes:
        icon.addPixmap(svg_pixmap(svg, size))
    return icon


def app_pixmap(size: int) -> QPixmap:
    return svg_pixmap(APP_SVG.read_bytes(), size)


def app_icon() -> QIcon:
    """The window's and the installers' icon."""
    return svg_icon(APP_SVG.read_bytes(), (16, 24, 32, 48, 64, 128, 256))


def tray_pixmap(state: str, dark_panel: bool = False, size: int = 64) -> QPixmap:
    """The tray's house with a dot in the state's colour (grey idle, green donating, amber busy)."""
    svg = TRAY_SVG.read_text(encoding="utf-8").replace("HOUSE", HOUSE[dark_panel])
    pixmap = svg_pixmap(svg.encode(), size)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    dot = size * 0.38
    painter.setBrush(QColor(STATE_COLORS.get(state, STATE_COLORS["idle"])))
    painter.setPen(QColor("white"))
    painter.drawEllipse(QRectF(size - dot - 1, size - dot - 1, dot, dot))
    painter.end()
    return pixmap


def tray_icon(state: str, dark_panel: bool = False) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(tray_pixmap(state, dark_panel, size))
    return icon
