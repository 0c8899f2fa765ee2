"""Plans over the devices as this node sees them now: what the planner page, `hearth plan` and loads use.

The devices come from the node's live view; while a pooled model is lost the devices that left are
left out, and what a loaded model holds counts as free (loading another frees it first).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

from hearth.core.plan import HOST, Plan, PlanError, even_plan
from hearth.core.planner import DeviceSpec, Prediction, auto_plan
from hearth.core.profile import ModelProfile, default_context
from hearth.service.device_view import DeviceView
from hearth.service.errors import ServiceError
from hearth.service.fit import Fit, fit
from hearth.service.planning import (
    PlanChoice,
    PlanningDevice,
    Sizing,
    choose_sized,
    keyed_specs,
    named_specs,
    planning_devices,
    predict_at_once,
    size_at_once,
    sized_known,
)
from hearth.service.serving_state import ServingState, excluded, held
from hearth.store.settings import (
    MOST_AT_ONCE,
    Pooling,
    load_answering,
    load_pooling,
    update_answering,
    update_pooling,
)

# How long to wait between looks at paired devices that have not reported yet.
_SETTLE_STEP_S = 0.2


class DeviceSource(Protocol):
    def devices(self) -> list[DeviceView]: ...

    def is_me(self, name: str) -> bool: ...


class Plans:
    def __init__(
        self,
        source: DeviceSource,
        sizing: Sizing,
        state: Callable[[], ServingState],
        read_profile: Callable[[str], Awaitable[ModelProfile]],
    ) -> None:
        self._source = source
        self._sizing = sizing
        self._state = state
        self._read_profile = read_profile
        self._at_once_this_run: int | None = None  # `hearth serve --parallel`: not saved

    def devices(self) -> list[PlanningDevice]:
        """The devices a plan may use now, this one first."""
        state = self._state()
        return planning_devices(self._source.devices(), held(state), excluded(state))

    @property
    def at_once(self) -> int:
        """How many answers a load gives together, as the user chose: 1 to ``MOST_AT_ONCE``, or 0 for
        as many as memory allows beside the weights."""
        if self._at_once_this_run is not None:
            return self._at_once_this_run
        return load_answering().chosen

    def set_at_once(self, at_once: int, save: bool = True) -> None:
        """Choose how many answers the next loads give together (0: as many as memory allows);
        ``save`` False: for this run only, the saved choice left as it is."""
        if not 0 <= at_once <= MOST_AT_ONCE:
            raise ServiceError(f"answers at once must be 1 to {MOST_AT_ONCE}, or 0 for as memory allows")
        if save:
            self._at_once_this_run = None
            update_answering(at_once=at_once)
        else:
            self._at_once_this_run = at_once

    def predict(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> Prediction:
        """Memory and speed of ``plan``, with as many answers at once as the user's choice and memory
        allow (``Prediction.at_once``)."""
        host, remotes = keyed_specs(self.devices())
        return predict_at_once(profile, host, remotes, plan, n_ctx, self.at_once)

    def auto_plan(self, profile: ModelProfile, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.devices())
        chosen = self.at_once
        best = auto_plan(profile, host, remotes, n_ctx, at_once=max(1, chosen))
        return predict_at_once(profile, host, remotes, best.plan, n_ctx, chosen)

    async def choose(
        self, model: str, n_ctx: int | None = None, plan_text: str | None = None, pooled: bool = True
    ) -> PlanChoice:
        """The plan named, checked, or the planner's best over the devices as this node sees them now:
        what `hearth plan` prints and what a pool without a named plan loads. Devices are named as
        plans name them (by name where unique), and this device's own name or ID works too. Not
        ``pooled``: every layer on this device, on its GPUs first as far as they hold."""
        profile = await self._read_profile(model)
        n_ctx = n_ctx or default_context(profile)
        host, remotes = named_specs(self.devices())
        if not pooled:
            # This device alone: on its GPUs first, as far as they hold, when it has any.
            remotes = []
            if not host.accelerators:
                plan_text = plan_text or str(even_plan(profile.block_count, [HOST]))
        try:
            sized = await choose_sized(
                profile, host, remotes, n_ctx, self._sizing, plan_text, self._source.is_me, self.at_once
            )
        except PlanError:
            if pooled or plan_text is not None:
                raise
            # Too big for its GPUs and RAM as the planner counts them: every layer on the CPU, as
            # without a GPU, and the memory check says what would not fit.
            plan_text = str(even_plan(profile.block_count, [HOST]))
            sized = await choose_sized(
                profile, host, remotes, n_ctx, self._sizing, plan_text, self._source.is_me, self.at_once
            )
        return PlanChoice(profile, n_ctx, sized, host, remotes)

    async def sized(
        self,
        profile: ModelProfile,
        prediction: Prediction,
        n_ctx: int,
        host: DeviceSpec | None = None,
        remotes: list[DeviceSpec] | None = None,
    ) -> Prediction:
        """``prediction`` with each device's compute buffer as llama.cpp's dry run sizes it, and what
        would overflow then; as it was when llama.cpp cannot say. ``host`` and ``remotes``: the devices
        it was made over (by default the planning devices, by key). Answers at once left to memory
        are fewer where llama.cpp's sizing leaves less room than the estimate did."""
        if host is None or remotes is None:
            host, remotes = keyed_specs(self.devices())
        return await size_at_once(self._sizing, profile, prediction, n_ctx, host, remotes, self.at_once)

    def sized_at_hand(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction:
        """``prediction`` sized as llama.cpp already sized its plan, without waiting; as it is when
        llama.cpp has not been asked yet (``sized``)."""
        host, remotes = keyed_specs(self.devices())
        return sized_known(self._sizing, profile, prediction, n_ctx, host, remotes, self.at_once)

    async def compute(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, at_once: int | None = None
    ) -> dict[str, int] | None:
        """Each device's compute buffer for ``plan`` as llama.cpp's dry run sizes it, loaded for
        ``at_once`` answers together (None: as many as a load of it would give now); None when it
        cannot say."""
        if at_once is None:
            at_once = self.predict(profile, plan, n_ctx).at_once
        return await self._sizing.compute(profile, plan, n_ctx, "f16", at_once)

    def fit(self, profile: ModelProfile, n_ctx: int | None = None) -> Fit:
        """Whether ``profile`` fits this device, the paired devices together, or neither, as the
        planner would place it over the devices as this node sees them now."""
        host, remotes = named_specs(self.devices())
        return fit(profile, host, remotes, n_ctx, max(1, self.at_once))

    async def settle(self, timeout: float) -> None:
        """Give paired devices in sight up to ``timeout`` seconds to connect and report their memory
        (a node that has just started knows nothing of them yet)."""

        def settled() -> bool:
            rows = [d for d in self._source.devices() if d.paired and not d.this_device and d.online]
            return all(d.connected and d.memory_free is not None for d in rows)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                # Discovery needs a moment even to show a device as online.
                await asyncio.sleep(min(1.0, timeout))
                # Telemetry lands in the node's rows with no event to await for "all of them".
                while not settled():  # noqa: ASYNC110
                    await asyncio.sleep(_SETTLE_STEP_S)

    @property
    def pooling(self) -> Pooling:
        """How pooled models behave when devices leave (re-plan on their own or not)."""
        return load_pooling()

    def set_pooling(self, **changes: bool) -> Pooling:
        return update_pooling(**changes)
