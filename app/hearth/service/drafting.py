"""What guesses tokens ahead of this device's answers (speculative decoding), as the user chose.

"auto" takes the draft model of the library that shares the model's tokenizer and fits beside it in
this device's memory, else prompt lookup (guesses from the answer's own text, which costs no memory);
"lookup" and "none" say what they say; a path names a draft model. Each answer's acceptance is kept
for the model and draft it was measured on, so the speed-up said for a choice is the measured one
where there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import psutil

from hearth.core.errors import HearthError
from hearth.core.formats import ModelFormat
from hearth.core.profile import ModelProfile
from hearth.engine.messages import Done
from hearth.models.drafts import drafts_for
from hearth.store.settings import DRAFT_CHOICES, Speculation, load_speculation, update_speculation

log = logging.getLogger(__name__)

# The guesses a pass is taken to verify, and the share kept, until an answer has measured them.
ASSUMED_GUESSES = 4
ASSUMED_KEPT = 0.7


class DraftError(HearthError):
    """A draft model that cannot be used with the model; the message says why and what to do."""


@dataclass(frozen=True)
class Guessing:
    """How one load guesses: with a draft model, from the answer's own text, or not at all."""

    draft: ModelProfile | None = None
    lookup: bool = False
    # The draft's memory on this device (weights and its KV cache), in bytes.
    draft_bytes: int = 0

    @property
    def kind(self) -> str:
        return "draft" if self.draft is not None else "lookup" if self.lookup else ""


@dataclass(frozen=True)
class DraftProposal:
    """A draft model for a load, as the Planner shows it."""

    draft: ModelProfile
    memory_bytes: int  # on this device, beside the model
    speedup: float  # expected where a pass over a few tokens costs about one
    measured: bool  # the acceptance behind it was measured by answers of this pair


def draft_memory(draft: ModelProfile, n_ctx: int, at_once: int = 1) -> int:
    """What a draft takes beside its model: its weights and a cache for each answer at once."""
    return draft.file_size + draft.kv_bytes(n_ctx) * max(1, at_once)


def predicted_speedup(kept: float, cost_share: float, guesses: int = ASSUMED_GUESSES) -> float:
    """The speed-up of guessing ``guesses`` a pass at ``kept`` acceptance with a draft whose token
    costs ``cost_share`` of the model's pass, where a pass over a few tokens costs about one (a GPU,
    a pool): ``(1 + kept + … + kept^guesses) / (1 + guesses × cost_share)``."""
    expected = sum(kept**i for i in range(guesses + 1))
    return expected / (1 + guesses * max(0.0, cost_share))


class Drafting:
    """The choice, stored; what it means for a load; and what answers measured of it."""

    def __init__(
        self,
        library: Callable[[], Awaitable[list[ModelProfile]]],
        read: Callable[[str], Awaitable[ModelProfile]],
        settings: Speculation | None = None,
    ) -> None:
        """``library``: the models of the library; ``read``: a model's profile from its path;
        ``settings``: for this run only, instead of the stored ones (a command's ``--draft``)."""
        self._library = library
        self._read = read
        self._settings = settings or load_speculation()
        self._kept: dict[tuple[str, str], tuple[int, int]] = {}  # (model, draft) -> (kept, drafted)
        self.recorded = 0  # answers whose guesses were counted: what was said of a choice may be stale

    @property
    def settings(self) -> Speculation:
        return self._settings

    def set_choice(self, draft: str) -> Speculation:
        """Store what guesses tokens: one of ``DRAFT_CHOICES`` or a draft model's path."""
        if not draft:
            raise DraftError(f"choose one of {', '.join(DRAFT_CHOICES)} or a draft model's file")
        self._settings = update_speculation(draft=draft)
        return self._settings

    async def for_load(self, target: ModelProfile, n_ctx: int, held_here: int, at_once: int = 1) -> Guessing:
        """How a load of ``target`` for ``at_once`` answers together guesses, with ``held_here`` bytes
        of this device's memory about to be held by the load itself; a draft that cannot be read or
        used gives prompt lookup."""
        choice = self._settings.draft
        if target.format != ModelFormat.GGUF or choice in ("none", "lookup"):
            return self.guessing(target, (), None, n_ctx)
        spare = psutil.virtual_memory().available - held_here
        try:
            if choice == "auto":
                return self.guessing(target, await self._library(), spare, n_ctx, at_once)
            return self.guessing(target, (), spare, n_ctx, at_once, named=await self._read(choice))
        except (DraftError, OSError, ValueError) as exc:
            log.warning("%s; guessing from the answers' own text instead", exc)
            return Guessing(lookup=True)

    def guessing(
        self,
        target: ModelProfile,
        library: Iterable[ModelProfile],
        spare_bytes: int | None,
        n_ctx: int,
        at_once: int = 1,
        named: ModelProfile | None = None,
    ) -> Guessing:
        """How a load of ``target`` guesses, with ``spare_bytes`` of this device's memory left beside
        it (None: not known); ``named``: the draft model the choice names by its path."""
        choice = self._settings.draft
        if target.format != ModelFormat.GGUF or choice == "none":
            return Guessing()
        if choice == "lookup":
            return Guessing(lookup=True)
        if choice == "auto":
            for draft in drafts_for(target, library):
                need = draft_memory(draft, n_ctx, at_once)
                if spare_bytes is None or need <= spare_bytes:
                    return Guessing(draft, draft_bytes=need)
            return Guessing(lookup=True)
        if named is None:
            raise DraftError(f"the draft model {choice} cannot be read here")
        draft = named
        if not draft.tokenizer or draft.tokenizer != target.tokenizer:
            raise DraftError(
                f"{draft.name or choice} cannot draft for {target.name or target.path}: their tokenizers "
                "differ. Choose a smaller model of the same family, or let Hearth choose (auto)"
            )
        return Guessing(draft, draft_bytes=draft_memory(draft, n_ctx, at_once))

    async def proposal(self, target: ModelProfile, n_ctx: int, at_once: int = 1) -> DraftProposal | None:
        """The draft a load of ``target`` for ``at_once`` answers together would take as the choice
        stands, with its memory here and its expected speed-up; None: it would take none (guesses
        from the answer's text, or none)."""
        guessing = await self.for_load(target, n_ctx, 0, at_once)
        if guessing.draft is None:
            return None
        speedup, measured = self.speedup(target, guessing.draft)
        return DraftProposal(guessing.draft, guessing.draft_bytes, speedup, measured)

    def record(self, target: str, draft: str, done: Done) -> None:
        """What an answer of ``target`` guessed with ``draft`` ("" for prompt lookup) kept."""
        if done.drafted:
            kept, drafted = self._kept.get((target, draft), (0, 0))
            self._kept[(target, draft)] = (kept + done.accepted, drafted + done.drafted)
            self.recorded += 1

    def kept(self, target: str, draft: str) -> float | None:
        """The share of guesses kept by answers of ``target`` with ``draft`` so far; None: none yet."""
        kept, drafted = self._kept.get((target, draft), (0, 0))
        return kept / drafted if drafted else None

    def speedup(self, target: ModelProfile, draft: ModelProfile) -> tuple[float, bool]:
        """The speed-up ``draft`` is expected to give ``target`` where passes cost about one token,
        and whether it rests on a measured acceptance."""
        measured = self.kept(target.path, draft.path)
        share = draft.file_size / target.file_size if target.file_size else 1.0
        kept = ASSUMED_KEPT if measured is None else measured
        return predicted_speedup(kept, share), measured is not None


def guessing_here(target: ModelProfile, n_ctx: int, settings: Speculation | None = None) -> Guessing:
    """How a command's own engine (``hearth chat``) guesses for ``target``: as ``settings`` (or the
    stored choice) says, the library read here."""
    from hearth.models.library import ModelLibrary, profile_of

    drafting = Drafting(_no_library, _no_read, settings)
    choice = drafting.settings.draft
    try:
        if choice == "auto" and target.format == ModelFormat.GGUF:
            library = [e.profile for e in ModelLibrary().entries() if e.profile is not None]
            return drafting.guessing(target, library, psutil.virtual_memory().available, n_ctx)
        named = profile_of(choice) if choice not in DRAFT_CHOICES else None
        return drafting.guessing(target, (), None, n_ctx, named=named)
    except (DraftError, OSError, ValueError) as exc:
        log.warning("%s; guessing from the answers' own text instead", exc)
        return Guessing(lookup=True)


async def _no_library() -> list[ModelProfile]:
    return []


async def _no_read(path: str) -> ModelProfile:
    raise DraftError(f"{path} cannot be read here")
