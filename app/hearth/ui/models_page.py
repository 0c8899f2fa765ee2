"""The model library: what is on this device, and importing a .gguf file (checked before it is kept)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hearth.core.profile import ModelProfile
from hearth.models.library import LibraryEntry
from hearth.service.app import Services
from hearth.ui.memory_bar import gib, params
from hearth.ui.tasks import describe, spawn


def summary(profile: ModelProfile) -> str:
    return (
        f"{profile.name or profile.path.rsplit('/', 1)[-1]} — {profile.architecture}, "
        f"{params(profile.parameters)}, {profile.dominant_type}, {profile.block_count} layers, "
        f"{gib(profile.file_size)}"
    )


class ModelsPage(QWidget):
    changed = Signal(str)  # a model was imported: its path

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.list = QListWidget()
        self.status = QLabel()
        self.status.setWordWrap(True)
        import_button = QPushButton(self.tr("Import a .gguf file…"))
        import_button.clicked.connect(lambda: self.import_file())
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Models on this device")), 1)
        top.addWidget(import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)

    def reload(self) -> None:
        spawn(self.services.on_disk(self.services.library.entries), self._error, self._fill)

    def _fill(self, entries: list[LibraryEntry]) -> None:
        self.list.clear()
        for e in entries:
            if e.profile is None:
                text = self.tr("%1 — cannot be used: %2").replace("%1", e.path).replace("%2", e.problem)
            elif e.profile.has_chat_template:
                text = summary(e.profile)
            else:
                note = self.tr("continues text; not tuned for chat")
                text = f"{summary(e.profile)} — {note}"
            self.list.addItem(text)
            self.list.item(self.list.count() - 1).setToolTip(e.path)

    def import_file(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, self.tr("Import a model"), "", self.tr("GGUF models (*.gguf);;All files (*)")
            )
            if not path:
                return
        self.status.setText(self.tr("Checking %1…").replace("%1", path))
        spawn(
            self.services.on_disk(self.services.library.import_file, path),
            lambda exc: self.status.setText(
                self.tr("%1 was not imported: %2").replace("%1", path).replace("%2", describe(exc))
            ),
            lambda profile: self._imported(profile),
        )

    def _imported(self, profile: ModelProfile) -> None:
        self.status.setText(self.tr("Imported %1").replace("%1", summary(profile)))
        self.reload()
        self.changed.emit(profile.path)

    def _error(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))
