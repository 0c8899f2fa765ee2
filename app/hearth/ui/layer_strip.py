"""The layer strip: one cell per layer plus the output head, coloured by the device holding it.

Mouse: drag a boundary between two devices' ranges; press and drag to select layers, then drag the
selection onto a device column. Keyboard: Left/Right move the cursor, Shift extends the selection,
Alt+Left/Right moves the boundary after the cursor's device, digits 1-9 send the selection to that
device column.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from hearth.core.plan_edit import PlanDraft

MIME = "application/x-hearth-layers"
GRAB_PX = 5


def encode_range(start: int, end: int) -> QMimeData:
    data = QMimeData()
    data.setData(MIME, QByteArray(f"{start}-{end}".encode()))
    return data


def decode_range(data: QMimeData) -> tuple[int, int] | None:
    if not data.hasFormat(MIME):
        return None
    try:
        start, end = (int(x) for x in bytes(data.data(MIME).data()).decode().split("-"))
    except ValueError:
        return None
    return (start, end) if 0 <= start < end else None


class LayerStrip(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.draft: PlanDraft | None = None
        self.colors: list[QColor] = []
        self.selection: tuple[int, int] | None = None
        self.current = 0
        self._anchor = 0
        self._boundary: tuple[int, int] | None = None
        self._press: QPointF | None = None
        self._press_in_selection = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(600, 48)

    def set_draft(self, draft: PlanDraft | None, colors: list[QColor]) -> None:
        self.draft = draft
        self.colors = colors
        self.selection = None
        self.current = 0
        self.update()

    # --- geometry ---

    def _cells(self) -> int:
        return self.draft.n_layers + 1 if self.draft else 0

    def cell_width(self) -> float:
        return self.width() / max(1, self._cells())

    def cell_rect(self, index: int) -> QRectF:
        w = self.cell_width()
        return QRectF(index * w, 0, w, self.height())

    def layer_at(self, x: float) -> int | None:
        if self.draft is None:
            return None
        index = int(x // self.cell_width())
        return index if 0 <= index < self.draft.n_layers else None

    def boundary_at(self, x: float) -> tuple[int, int, int] | None:
        if self.draft is None:
            return None
        for left, right, position in self.draft.boundaries():
            if abs(position * self.cell_width() - x) <= GRAB_PX:
                return left, right, position
        return None

    def boundary_x(self, left: int, right: int) -> float:
        assert self.draft is not None
        return self.draft.start(right) * self.cell_width()

    # --- edits ---

    def _edited(self) -> None:
        self.update()
        self.changed.emit()

    def send_selection(self, target: int) -> None:
        if self.draft is None or not 0 <= target < len(self.draft.devices):
            return
        start, end = self.selection or (self.current, self.current + 1)
        self.draft.move_layers(start, end, target)
        self._edited()

    def _nudge_boundary(self, step: int) -> None:
        assert self.draft is not None
        owner = self.draft.owner(self.current)
        bounds = self.draft.boundaries()
        after = [b for b in bounds if b[0] == owner]
        chosen = after[0] if after else next((b for b in bounds if b[1] == owner), None)
        if chosen is None:
            return
        left, right, position = chosen
        self.draft.move_boundary(left, right, position + step)
        self._edited()

    # --- mouse ---

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.draft is None or event.button() != Qt.MouseButton.LeftButton:
            return
        x = event.position().x()
        hit = self.boundary_at(x)
        self._press = event.position()
        if hit is not None:
            self._boundary = hit[:2]
            return
        layer = self.layer_at(x)
        if layer is None:
            return
        self.current = layer
        sel = self.selection
        self._press_in_selection = sel is not None and sel[0] <= layer < sel[1]
        if not self._press_in_selection:
            self._anchor = layer
            self.selection = (layer, layer + 1)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.draft is None:
            return
        x = event.position().x()
        if not event.buttons() & Qt.MouseButton.LeftButton:
            over = self.boundary_at(x) is not None
            self.setCursor(Qt.CursorShape.SplitHCursor if over else Qt.CursorShape.ArrowCursor)
            return
        if self._boundary is not None:
            self.draft.move_boundary(*self._boundary, round(x / self.cell_width()))
            self._edited()
        elif self._press_in_selection and self.selection and self._press is not None:
            if (event.position() - self._press).manhattanLength() >= QApplication.startDragDistance():
                self._press_in_selection = False
                drag = QDrag(self)
                drag.setMimeData(encode_range(*self.selection))
                drag.exec(Qt.DropAction.MoveAction)
        else:
            layer = self.layer_at(max(0.0, min(x, self.width() - 1.0)))
            if layer is not None:
                self.current = layer
                self.selection = (min(self._anchor, layer), max(self._anchor, layer) + 1)
                self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._boundary = None
        self._press = None
        self._press_in_selection = False

    # --- keyboard ---

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.draft is None or self.draft.n_layers == 0:
            super().keyPressEvent(event)
            return
        key, mods = event.key(), event.modifiers()
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(key))
        if step is not None and mods & Qt.KeyboardModifier.AltModifier:
            self._nudge_boundary(step)
        elif step is not None:
            self.current = max(0, min(self.draft.n_layers - 1, self.current + step))
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.selection = (min(self._anchor, self.current), max(self._anchor, self.current) + 1)
            else:
                self._anchor = self.current
                self.selection = None
            self.update()
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.send_selection(key - Qt.Key.Key_1)
        else:
            super().keyPressEvent(event)

    # --- painting ---

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self.draft is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("Pick a model"))
            return
        n = self.draft.n_layers
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.75))
        painter.setFont(small)
        for layer in range(n + 1):
            rect = self.cell_rect(layer).adjusted(0.5, 4, -0.5, -4)
            owner = self.draft.owner(layer) if layer < n else 0
            color = QColor(self.colors[owner % len(self.colors)]) if self.colors else QColor("#888")
            if layer == n:
                color = color.darker(130)
            selected = self.selection is not None and self.selection[0] <= layer < self.selection[1]
            painter.fillRect(rect, color.lighter(150) if selected else color)
            if self.cell_width() >= 18:
                painter.setPen(QColor("white"))
                label = self.tr("out") if layer == n else str(layer)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        painter.setPen(QPen(QColor("#202124"), 3))
        for left, right, _ in self.draft.boundaries():
            x = self.boundary_x(left, right)
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        if self.hasFocus():
            painter.setPen(QPen(QColor("#202124"), 1, Qt.PenStyle.DashLine))
            painter.drawRect(self.cell_rect(self.current).adjusted(1, 2, -1, -2))
        painter.end()
