"""The choice of what guesses tokens ahead of answers (speculative decoding), for the next load."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QWidget

from hearth.service.drafting import DraftError, Drafting


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
        self.setToolTip(
            self.tr(
                "A small model with the same tokenizer, or the text said so far, guesses the next few "
                "tokens and the model checks them in one pass: the same answer, sooner. Applies to the "
                "next model loaded."
            )
        )
        self.currentIndexChanged.connect(self._chosen)

    def _chosen(self, _: int) -> None:
        try:
            self._drafting.set_choice(str(self.currentData()))
        except DraftError as exc:
            self.setToolTip(str(exc))
