"""The planner page without Qt: the model chosen, the plan being drafted over the devices there are,
what it would hold and how fast it would be, what the status line says, and the load under way."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Protocol

from hearth.core.formats import ModelFormat
from hearth.core.plan import Plan, PlanError, PlanKey
from hearth.core.plan_edit import PlanDraft
from hearth.core.planner import Overflow, Prediction
from hearth.core.profile import ModelProfile
from hearth.service.models import LibraryEntry, same_model_key
from hearth.service.planning import PlanColumn, PlanningDevice, plan_columns

# How long the plan must stay as it is before llama.cpp is asked to size it.
SIZE_AFTER_S = 0.25
MIN_CTX = 256
DEFAULT_CTX = 4096


def context_steps(maximum: int) -> list[int]:
    """Context lengths the slider offers: powers of two up to the model's own."""
    steps, n = [], MIN_CTX
    while n < maximum:
        steps.append(n)
        n *= 2
    return [*steps, max(maximum, MIN_CTX)]


class PlanStatus(Enum):
    """What the status line says."""

    NOTE = auto()  # the note, if there is one: what it says while nothing else needs saying
    PROBLEM = auto()  # a plan could not be made, edited or listed: ``problem`` says why
    OVER = auto()  # a device would run out of memory: ``overflows()`` says which and by how much
    LOADING = auto()
    LOADED = auto()  # ``loaded_on`` names the devices; kept while the plan is redrawn
    LOAD_FAILED = auto()  # ``problem`` says why
    CANCELLED = auto()


@dataclass(frozen=True)
class DevicesLeft:
    """The plan shown replaces one that lost these devices."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class FasterPlan:
    """The plan shown is faster than the loaded one, with devices that joined."""


@dataclass(frozen=True)
class MlxAlone:
    """An MLX model, which runs on this device alone though others are there."""


Note = DevicesLeft | FasterPlan | MlxAlone


@dataclass(frozen=True)
class Proposal:
    """What the page is to show once the library is read: a model, its context, a plan, a note."""

    path: str
    n_ctx: int
    note: Note | None = None
    draft: PlanDraft | None = None  # None: the planner's best


@dataclass(frozen=True)
class SizeRequest:
    """A prediction that llama.cpp has not sized yet."""

    profile: ModelProfile
    estimate: Prediction
    n_ctx: int


@dataclass(frozen=True)
class LoadRequest:
    profile: ModelProfile
    plan: Plan
    n_ctx: int


class PlanSource(Protocol):
    """What the page needs of the plans service (``service.plans.Plans``)."""

    def devices(self) -> list[PlanningDevice]: ...

    def auto_plan(self, profile: ModelProfile, n_ctx: int) -> Prediction: ...

    def predict(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> Prediction: ...

    def sized_at_hand(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction: ...

    async def sized(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction: ...


def _said(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class PlannerView:
    def __init__(self, plans: PlanSource) -> None:
        self.plans = plans
        self.entries: list[LibraryEntry] = []
        self.profile: ModelProfile | None = None
        self.devices: list[PlanningDevice] = []
        self.columns: list[PlanColumn] = []  # the devices' pools, one column each
        # Bumped whenever the page is to lay out one column per device afresh.
        self.columns_version = 0
        self.ctx_index = 0  # the context slider's position
        self.draft: PlanDraft | None = None
        self.prediction: Prediction | None = None
        # Bumped with every new prediction: the page then sizes ``to_size`` (after it stops changing).
        self.predictions = 0
        self.to_size: SizeRequest | None = None
        self.note: Note | None = None
        self.status = PlanStatus.NOTE
        self.problem = ""
        self.loaded_on: tuple[str, ...] = ()
        self.loaded_plan: Plan | None = None  # as the service loaded it
        self.loading = False
        self.progress: dict[str, float] | None = None  # per plan device while loading
        self.proposal: Proposal | None = None  # to show once the library is read

    # --- the model and its context ---

    def listed(self, entries: list[LibraryEntry]) -> None:
        # An embedding model serves the APIs' embeddings; it has nothing to chat with.
        self.entries = [e for e in entries if e.profile is not None and not e.profile.embedding_only]

    def choose(self, index: int) -> bool:
        """The library's entry ``index`` (none when out of range) chosen; False when that changes
        nothing. A model chosen anew gets the planner's best plan at the default context over the
        devices there are now; the same file read again (the library changed) keeps the user's plan."""
        profile = self.entries[index].profile if 0 <= index < len(self.entries) else None
        if profile == self.profile and profile is not None:
            return False
        self.profile = profile
        self.note = None
        if profile is None:
            self.draft = None
            return True
        self.ctx_index = self.index_for(DEFAULT_CTX)
        self._take_devices()
        self.auto()
        return True

    def steps(self) -> list[int]:
        """The context lengths the slider offers for the model chosen."""
        return context_steps((self.profile.context_length if self.profile else 0) or DEFAULT_CTX)

    def index_for(self, n_ctx: int) -> int:
        """The slider's position for the longest step up to ``n_ctx``."""
        return max(i for i, s in enumerate(self.steps()) if s <= n_ctx or i == 0)

    @property
    def n_ctx(self) -> int:
        # A model that names no context length gets the shortest step, whatever the slider offers.
        steps = context_steps(self.profile.context_length if self.profile else DEFAULT_CTX)
        return steps[min(self.ctx_index, len(steps) - 1)]

    def set_context(self, index: int) -> None:
        self.ctx_index = index
        self.update()

    # --- proposals and what a copy of the page takes over ---

    def keep(self) -> Proposal | None:
        if self.profile is None:
            return None
        return Proposal(self.profile.path, self.n_ctx, self.note, self.draft)

    def apply_proposal(self) -> bool:
        """Show the proposal waiting, if it is for the model chosen: its context and note, and its
        plan if that is over the devices there are now, else the planner's best."""
        proposal, self.proposal = self.proposal, None
        if proposal is None or self.profile is None or self.profile.path != proposal.path:
            return False
        self.ctx_index = self.index_for(proposal.n_ctx)
        self._take_devices()
        self.note = proposal.note
        draft = proposal.draft
        if draft is not None and set(draft.devices) == {c.key for c in self.columns}:
            self.set_draft(draft)
        else:
            self.auto()
        return True

    # --- devices ---

    def _take_devices(self) -> None:
        self.devices = self.plans.devices()
        self.columns = plan_columns(self.devices)
        self.columns_version += 1

    def refresh(self) -> None:
        """The devices as they are now: a plan over devices that changed is kept where every device
        holding layers is still there, else planned again; otherwise only predicted again."""
        devices = self.plans.devices()
        columns = plan_columns(devices)
        keys = [c.key for c in columns]
        changed = keys != [c.key for c in self.columns]
        self.devices, self.columns = devices, columns
        if not changed or self.profile is None:
            self.update()
            return
        self.columns_version += 1
        draft = self.draft
        held = {d for d, c in zip(draft.devices, draft.counts, strict=True) if c} if draft else set()
        if draft is not None and held <= set(keys):
            self.set_draft(PlanDraft.from_plan(draft.plan(), keys))
        else:
            self.auto()

    def named(self, text: str) -> str:
        """``text`` with the devices' keys replaced by their names (a GPU's with the GPU's too)."""
        names = {c.key: f"{c.name} ({c.gpu})" if c.key != c.device else c.name for c in self.columns}
        if not names:
            return text
        # One pass, longest keys first: a GPU's key begins with its device's, and a name may hold a key.
        keys = sorted(names, key=len, reverse=True)
        pattern = r"(?<!\w)(?:" + "|".join(re.escape(k) for k in keys) + r")(?!\w)"
        return re.sub(pattern, lambda m: names[PlanKey(m.group(0))], text)

    # --- the plan ---

    def auto(self) -> None:
        """The planner's best plan; everything on this device when there is none."""
        if self.profile is None:
            return
        keys = [c.key for c in self.columns]
        try:
            draft = PlanDraft.from_plan(self.plans.auto_plan(self.profile, self.n_ctx).plan, keys)
        except PlanError as exc:
            draft = PlanDraft(keys, [self.profile.block_count] + [0] * (len(keys) - 1))
            self.say_problem(_said(exc))
        self.set_draft(draft)

    def set_draft(self, draft: PlanDraft) -> None:
        self.draft = draft
        self.update()

    def drop(self, start: int, end: int, column: int) -> bool:
        """Layers ``[start, end)`` let go over the column of device ``column``; False when the plan
        did not change (``status`` says why when it could not)."""
        if self.draft is None or not 0 <= column < len(self.columns):
            return False
        target = self.draft.devices.index(self.columns[column].key)
        try:
            self.draft.move_layers(start, min(end, self.draft.n_layers), target)
        except PlanError as exc:
            self.say_problem(_said(exc))
            return False
        self.update()
        return True

    def update(self) -> None:
        """Predict the plan drafted (sized at once where llama.cpp already has)."""
        if self.profile is None or self.draft is None:
            return
        if self.pools_alone() and self.note is None:
            self.note = MlxAlone()
        try:
            estimate = self.plans.predict(self.profile, self.draft.plan(), self.n_ctx)
        except PlanError as exc:
            self.prediction = None
            self.say_problem(_said(exc))
            return
        # Sized at once when llama.cpp has seen this plan (the bars do not flicker back to the estimate
        # on every refresh), else shown as estimated until it has.
        at_hand = self.plans.sized_at_hand(self.profile, estimate, self.n_ctx)
        self._show(at_hand)
        self.predictions += 1
        self.to_size = None if at_hand.sized_by_llama else SizeRequest(self.profile, estimate, self.n_ctx)

    async def size(self, request: SizeRequest) -> tuple[SizeRequest, Prediction]:
        """``request`` as llama.cpp sizes it."""
        # A strip being dragged changes the plan many times a second: size the one it settles on.
        await asyncio.sleep(SIZE_AFTER_S)
        return request, await self.plans.sized(request.profile, request.estimate, request.n_ctx)

    def sized(self, request: SizeRequest, prediction: Prediction) -> bool:
        """llama.cpp's sizing of ``request``, shown if that is still the plan drafted."""
        if self.profile is None or self.draft is None or not prediction.sized_by_llama:
            return False
        if (request.profile.path, request.estimate.plan, request.n_ctx) != (
            self.profile.path,
            self.draft.plan(),
            self.n_ctx,
        ):
            return False
        self._show(prediction)
        return True

    def _show(self, prediction: Prediction) -> None:
        self.prediction = prediction
        if prediction.over:
            self.status = PlanStatus.OVER
        elif self.status is not PlanStatus.LOADED:
            self.status = PlanStatus.NOTE

    def overflows(self) -> list[Overflow]:
        return list(self.prediction.over.values()) if self.prediction else []

    def may_load(self) -> bool:
        shown = self.profile is not None and self.draft is not None and self.prediction is not None
        return shown and not self.overflows() and not self.loading

    def pools_alone(self) -> bool:
        """An MLX model with other devices there: they cannot take any of it."""
        return self.profile is not None and not self.profile.format.can_pool and len(self.devices) > 1

    def twin(self) -> LibraryEntry | None:
        """The library's GGUF of the MLX model chosen, matched by name without quantization marks."""
        if self.profile is None:
            return None
        want = same_model_key(self.profile.name or self.profile.path.rsplit("/", 1)[-1])
        return next(
            (
                e
                for e in self.entries
                if e.profile is not None
                and e.profile.format is ModelFormat.GGUF
                and same_model_key(e.profile.name) == want
            ),
            None,
        )

    def offers_twin(self) -> bool:
        return self.pools_alone() and self.twin() is not None

    def say_problem(self, why: str) -> None:
        self.status, self.problem = PlanStatus.PROBLEM, why

    # --- loading ---

    def begin_load(self) -> LoadRequest | None:
        """The load of the plan drafted, now under way; None when there is nothing to load or a load
        is under way already."""
        if self.profile is None or self.draft is None or self.loading:
            return None
        request = LoadRequest(self.profile, self.draft.plan(), self.n_ctx)
        self.note = None
        self.loading = True
        self.status = PlanStatus.LOADING
        return request

    def load_progress(self, per_device: dict[str, float]) -> None:
        self.progress = per_device

    def loaded(self, devices: tuple[str, ...], plan: Plan | None = None) -> None:
        self._finish_loading()
        self.status, self.loaded_on, self.loaded_plan = PlanStatus.LOADED, devices, plan

    def served(self, path: str | None, devices: tuple[str, ...] = (), plan: Plan | None = None) -> None:
        """What is loaded now (``path`` on ``devices`` as ``plan``; None: nothing), however it was
        loaded or unloaded: by an app's request, a paired device's, the tray or a lost device. A plan
        said to be loaded that is no longer served, or is served on other devices or by another plan,
        stops saying so."""
        if self.status is not PlanStatus.LOADED:
            return
        other_plan = plan is not None and self.loaded_plan is not None and plan != self.loaded_plan
        if self.profile is None or path != self.profile.path or devices != self.loaded_on or other_plan:
            self.status, self.loaded_on, self.loaded_plan = PlanStatus.NOTE, (), None

    def load_failed(self, why: str) -> None:
        self._finish_loading()
        self.status, self.problem = PlanStatus.LOAD_FAILED, self.named(why)

    def load_cancelled(self) -> None:
        self._finish_loading()
        self.status = PlanStatus.CANCELLED

    def _finish_loading(self) -> None:
        self.loading = False
        self.progress = None
        self.update()
