"""Text from outside Hearth shown as text, never as markup.

A QLabel, a QMessageBox and a tooltip guess from the string itself whether it is rich text
(``Qt::mightBeRichText``): a device that calls itself ``<b>x</b><img src=x>``, a model's metadata, a hub's
repository and file names, and the error messages that quote them would be drawn as markup, with
images loaded, links made and the layout changed. So the labels that show such text are plain text;
where a label is rich on purpose (a bold name, a card of facts), what comes from outside is escaped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def plain(label: QLabel) -> QLabel:
    """``label``, made to show whatever it is given as it is."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "") -> QLabel:
    """A label that shows ``text`` (and whatever it is given later) as it is."""
    return plain(QLabel(text))


def escape(text: object) -> str:
    """``text`` for a place inside rich text on purpose: every ``<``, ``>``, ``&`` and quote escaped."""
    return html.escape(str(text))


def tip(text: str) -> str:
    """A tooltip that shows ``text`` as it is. Tooltips have no text format to set, so the text goes in
    as rich text that is all escaped (line breaks kept)."""
    return QtGui.convertFromPlainText(text) if text else ""


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask a yes-or-no question whose text holds outside names; True for yes."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box.exec() == QMessageBox.StandardButton.Yes


# Desktop notifications may read a small markup in their body (freedesktop's "body-markup": <b>, <a>,
# <img>) and Qt cannot ask whether this desktop's does, nor turn it off; escaping would show "&lt;" where
# it does not. Look-alike characters read the same either way.
_NOT_MARKUP = str.maketrans({"<": "‹", ">": "›", "&": "＆"})


def notification_text(text: str) -> str:
    """``text`` for a desktop notification: no character of it can start markup."""
    return text.translate(_NOT_MARKUP)
