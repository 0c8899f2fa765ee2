"""What the model this device serves is doing: one of four states, matched on by the window and APIs.

``Idle``: nothing is loaded. ``Loading``: a plan is being reserved and loaded. ``Loaded``: a model
answers. ``Lost``: a pooled model stopped because devices of its plan left; the devices that left are
not planned on again until the user loads something (or a re-plan without them succeeds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hearth.core.formats import ModelFormat
from hearth.core.plan import Plan
from hearth.core.profile import ModelProfile
from hearth.engine import messages as m


@dataclass(frozen=True)
class Idle:
    pass


@dataclass(frozen=True)
class Lost:
    """A pooled model that stopped because devices of its plan left: what to plan again, without whom."""

    profile: ModelProfile
    n_ctx: int
    device_ids: tuple[str, ...]
    names: tuple[str, ...]
    reasons: tuple[str, ...]
    replan_failed: str = ""  # why planning again on its own did not work, when it was tried


@dataclass(frozen=True)
class Loading:
    profile: ModelProfile
    plan: Plan
    n_ctx: int
    after: Lost | None = None  # the lost model this load replaces, kept should the load fail


@dataclass(frozen=True)
class Loaded:
    profile: ModelProfile
    plan: Plan
    n_ctx: int
    devices: tuple[str, ...]  # names of the devices serving it, this one first
    loaded: m.Loaded | None = None
    # What it holds on each device (by plan key) that the devices' free memory no longer counts.
    held: dict[str, int] = field(default_factory=dict)
    tokens_per_s: float = 0.0  # as predicted when it was loaded

    @property
    def pooled(self) -> bool:
        return bool(self.plan.remote)

    @property
    def served_name(self) -> str:
        """The model as other apps name it: its file name without ``.gguf``."""
        return Path(self.profile.path).stem

    @property
    def renders_tools(self) -> bool:
        """Whether its chat template has a place for tools (only then can a request offer them)."""
        return self.loaded is not None and self.loaded.tools

    @property
    def holds_grammar(self) -> bool:
        """Whether its backend draws under a grammar (llama.cpp does; MLX does not)."""
        return self.profile.format is ModelFormat.GGUF


ServingState = Idle | Loading | Loaded | Lost


def excluded(state: ServingState) -> tuple[str, ...]:
    """The device IDs a plan may not use in ``state``: those a lost model lost."""
    match state:
        case Lost(device_ids=ids) | Loading(after=Lost(device_ids=ids)):
            return ids
    return ()


def held(state: ServingState) -> dict[str, int]:
    """What the loaded model holds on each device (loading another frees it first)."""
    return state.held if isinstance(state, Loaded) else {}
