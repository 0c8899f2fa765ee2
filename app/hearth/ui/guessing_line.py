"""The Planner's line on guessing ahead: which draft a load would take, what it costs here and gives."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from hearth.core.fill import fill
from hearth.core.formats import ModelFormat
from hearth.core.names import model_display_name
from hearth.core.profile import ModelProfile
from hearth.service.drafting import Drafting, DraftProposal
from hearth.ui.memory_bar import gib, number
from hearth.ui.plain import plain
from hearth.ui.tasks import spawn


class GuessingLine(QLabel):
    """What guesses tokens ahead of a load of the model on the page, as Settings choose it."""

    def __init__(self, drafting: Drafting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drafting = drafting
        plain(self)  # a model's own name is in it
        self.setWordWrap(True)
        self.setObjectName("guessingAhead")
        self._asking: asyncio.Task[Any] | None = None
        self._asked: tuple[str, int, int, str, int] | None = None

    def propose(self, profile: ModelProfile | None, n_ctx: int, at_once: int = 1) -> None:
        """Say what a load of ``profile`` would guess with; asks again only when something changed."""
        choice = self.drafting.settings.draft
        asked = (profile.path if profile else "", n_ctx, at_once, choice, self.drafting.recorded)
        if asked == self._asked:
            return
        self._asked = asked
        if self._asking is not None:
            self._asking.cancel()
            self._asking = None
        if profile is None or profile.format is not ModelFormat.GGUF:
            self.setText("")  # MLX decodes without guesses
            return
        if choice == "none":
            self.setText(self.tr("Guessing ahead is off (Settings)."))
            return
        self._asking = spawn(
            self.drafting.proposal(profile, n_ctx, at_once),
            lambda exc: self.setText(""),
            lambda proposal: self._show(profile, proposal),
        )

    def _show(self, profile: ModelProfile, proposal: DraftProposal | None) -> None:
        self._asking = None
        if proposal is None:
            text = self.tr("Guesses ahead from the answer's own text: no memory beyond the model.")
            kept = self.drafting.kept(profile.path, "")
            if kept is not None:
                text += " " + fill(self.tr("%1% of its guesses kept so far."), number(kept * 100, 0))
            self.setText(text)
            return
        draft = proposal.draft
        text = fill(
            self.tr(
                "Guesses ahead with %1 (%2 more here): up to %3× as fast where a pass costs about one token"
            ),
            model_display_name(draft.path, draft.name),
            gib(proposal.memory_bytes),
            number(proposal.speedup, 1),
        )
        kept = self.drafting.kept(profile.path, draft.path)
        if proposal.measured and kept is not None:
            text += ", " + fill(self.tr("from %1% of its guesses kept so far."), number(kept * 100, 0))
        else:
            text += ", " + self.tr("expected until answers measure it.")
        self.setText(text)
