"""A stacked memory bar: parts of a device's memory side by side, red when a plan would not fit."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QLocale, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hearth.core.units import human_size
from hearth.ui import colors, i18n, theme


@dataclass(frozen=True)
class Part:
    label: str
    bytes: int
    color: QColor


def _locale() -> QLocale:
    return QLocale(i18n.active())


def number(value: float, decimals: int = 1) -> str:
    """A number as the window's language writes it (173,1 in Russian, 173.1 in English)."""
    return _locale().toString(float(value), "f", decimals)


def gib(n: float) -> str:
    """A size as people read it, with the language's decimal sign (the units are the same everywhere)."""
    return human_size(n).replace(".", _locale().decimalPoint())


# A part that holds anything is drawn at least this many pixels long: a model of a few hundred MiB on a
# device of tens of GiB would otherwise be a hairline no one sees.
MIN_PART_PX = 6.0


def part_lengths(
    sizes: list[int], capacity: int, length: float, at_least: float = MIN_PART_PX
) -> list[float]:
    """Each part's length on a bar ``length`` long holding ``capacity``: in proportion, but none that holds
    anything shorter than ``at_least``, the others shrunk to make room (never past the bar's end)."""
    if not sizes or length <= 0:
        return [0.0 for _ in sizes]
    wanted = [length * s / max(capacity, 1) for s in sizes]
    small = [i for i, w in enumerate(wanted) if 0 < w < at_least]
    if not small or at_least * len(sizes) >= length:
        return wanted
    out = [at_least if i in small else w for i, w in enumerate(wanted)]
    over = sum(out) - length
    big = sum(w for i, w in enumerate(out) if i not in small)
    if over > 0 and big > 0:
        out = [w if i in small else w - over * w / big for i, w in enumerate(out)]
    return out


def params(n: int) -> str:
    return f"{n / 1e9:.1f} B" if n >= 1e9 else f"{n / 1e6:.0f} M"


class MemoryBar(QWidget):
    def __init__(self, vertical: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.vertical = vertical
        self.parts: list[Part] = []
        self.capacity = 0
        self.over = False
        fixed, grow = QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding
        if vertical:
            self.setSizePolicy(fixed, grow)
        else:
            self.setSizePolicy(grow, fixed)

    def sizeHint(self) -> QSize:
        return QSize(28, 160) if self.vertical else QSize(220, 14)

    def set_parts(self, parts: list[Part], capacity: int, over: bool = False) -> None:
        self.parts = [p for p in parts if p.bytes > 0]
        self.capacity = max(capacity, sum(p.bytes for p in self.parts), 1)
        self.over = over
        self.setToolTip("\n".join(f"{p.label}: {gib(p.bytes)}" for p in self.parts))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.fillRect(rect, theme.free_color(self.palette()))
        length = rect.height() if self.vertical else rect.width()
        offset = 0.0
        lengths = part_lengths([p.bytes for p in self.parts], self.capacity, length)
        for part, size in zip(self.parts, lengths, strict=True):
            if self.vertical:  # fills from the bottom up
                seg = QRectF(rect.left(), rect.bottom() - offset - size, rect.width(), size)
            else:
                seg = QRectF(rect.left() + offset, rect.top(), size, rect.height())
            painter.fillRect(seg, part.color)
            offset += size
        pen = QPen(colors.OVER if self.over else QColor("#80868b"), 2 if self.over else 1)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect)
        painter.end()
