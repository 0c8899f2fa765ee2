"""The look: Qt's Fusion style everywhere, light or dark as the system is (or as the user chose),
and line icons drawn in the palette's text colour so that they read on either."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from hearth.service import preferences as prefs
from hearth.ui.app_icon import RESOURCES, svg_icon

CHOICES = ("system", "light", "dark")
ICONS = RESOURCES / "nav"  # the pages' line icons, beside the app's own (app_icon.find_resources)
_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#171717",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.ToolTipBase: "#303134",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2d2f31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.BrightText: "#ff8a80",
    QPalette.ColorRole.Highlight: "#e07a2f",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.Mid: "#3c4043",
    QPalette.ColorRole.Dark: "#141414",
    QPalette.ColorRole.Light: "#3c4043",
}


def chosen() -> str:
    value = prefs.read().get("theme", "system")
    return value if value in CHOICES else "system"


def choose(choice: str) -> None:
    if choice not in CHOICES:
        raise ValueError(f"no theme {choice!r}")
    prefs.write("theme", choice)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply(app)


def is_dark(choice: str | None = None) -> bool:
    choice = choice or chosen()
    if choice == "system":
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return choice == "dark"


def palette(dark: bool) -> QPalette:
    if not dark:
        style = QApplication.style()
        return style.standardPalette() if style is not None else QPalette()
    pal = QPalette()
    for role, color in _DARK.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7f85"))
    return pal


def apply(app: QApplication) -> None:
    """Fusion with the chosen palette; with "system", the palette follows the system when it changes."""
    app.setStyle("Fusion")
    app.setPalette(palette(is_dark()))
    hints = QGuiApplication.styleHints()
    if not app.property("hearthFollowsScheme"):
        hints.colorSchemeChanged.connect(lambda _: _scheme_changed(app))
        app.setProperty("hearthFollowsScheme", True)
    icon.cache_clear()


def _scheme_changed(app: QApplication) -> None:
    if chosen() == "system":
        apply(app)


def free_color(pal: QPalette) -> QColor:
    """The colour of memory no one uses: a quiet tone of the background, light or dark."""
    base = pal.color(QPalette.ColorRole.Window)
    return base.darker(112) if base.lightness() > 128 else base.lighter(160)


@cache
def icon(name: str, color: str = "") -> QIcon:
    """The line icon ``icons/NAME.svg`` in ``color`` (default: the palette's text colour), drawn at
    every size a 1× or 2× screen asks for."""
    color = color or QApplication.palette().color(QPalette.ColorRole.WindowText).name()
    svg = (ICONS / f"{name}.svg").read_text(encoding="utf-8").replace("currentColor", color)
    return svg_icon(svg.encode())
