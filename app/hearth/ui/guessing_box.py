"""The choice of what guesses tokens ahead of answers (speculative decoding), for the next load."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QToolTip, QWidget

from hearth.core.errors import HearthError
from hearth.service.drafting import Drafting
from hearth.ui.tasks import describe


class GuessingBox(QComboBox):
    """Let Hearth choose, the answer's own text only, off, or the draft model a setting names."""

    def __init__(self, drafting: Drafting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._drafting = drafting
        self.addItem(self.tr("A draft model of the library, else the answer's own text"), "auto")
        self.addItem(self.tr("From the answer's own text only"), "lookup")
        self.addItem(self.tr("Off"), "none")
        chosen = drafting.settings.draft
        if self.findData(chosen) < 0:
            self.addItem(Path(chosen).name, chosen)
        self.setCurrentIndex(max(0, self.findData(chosen)))
        self._about = self.tr(
            "A small model with the same tokenizer, or the text said so far, guesses the next few "
            "tokens and the model checks them in one pass: the same answer, sooner. Applies to the "
            "next model loaded."
        )
        self.setToolTip(self._about)
        self.currentIndexChanged.connect(self._chosen)

    def _chosen(self, _: int) -> None:
        # Saved here, on the UI thread, as every other setting is: the settings file is read, changed
        # and written whole, so a save from another thread could lose a change another setting makes
        # at the same moment.
        try:
            self._drafting.set_choice(str(self.currentData()))
        except (HearthError, OSError) as exc:  # the service's errors, and the disk's own (a full disk)
            self._failed(exc)
            return
        self.setToolTip(self._about)

    def _failed(self, exc: BaseException) -> None:
        """Show why the choice was not saved, and the choice in effect again."""
        stored = self.findData(self._drafting.settings.draft)
        if stored >= 0:
            blocked = self.blockSignals(True)
            self.setCurrentIndex(stored)
            self.blockSignals(blocked)
        why = describe(exc)
        self.setToolTip(why)
        QToolTip.showText(self.mapToGlobal(self.rect().bottomLeft()), why, self)
