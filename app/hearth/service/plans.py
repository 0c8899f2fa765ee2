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
from hearth.core.planner import DeviceSpec, Prediction, auto_plan, predict, with_compute
from hearth.core.profile import ModelProfile, default_context
from hearth.service.device_view import DeviceView
from hearth.service.fit import Fit, fit
from hearth.service.planning import (
    PlanChoice,
    PlanningDevice,
    Sizing,
    caps,
    choose_sized,
    keyed_specs,
    named_specs,
    planning_devices,
    size,
)
from hearth.service.serving_state import ServingState, excluded, held
from hearth.store.settings import Pooling, load_pooling, update_pooling

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

    def devices(self) -> list[PlanningDevice]:
        """The devices a plan may use now, this one first."""
        state = self._state()
        return planning_devices(self._source.devices(), held(state), excluded(state))

    def predict(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.devices())
        return predict(profile, host, remotes, plan, n_ctx)

    def auto_plan(self, profile: ModelProfile, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.devices())
        return auto_plan(profile, host, remotes, n_ctx)

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
                profile, host, remotes, n_ctx, self._sizing, plan_text, self._source.is_me
            )
        except PlanError:
            if pooled or plan_text is not None:
                raise
            # Too big for its GPUs and RAM as the planner counts them: every layer on the CPU, as
            # without a GPU, and the memory check says what would not fit.
            plan_text = str(even_plan(profile.block_count, [HOST]))
            sized = await choose_sized(
                profile, host, remotes, n_ctx, self._sizing, plan_text, self._source.is_me
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
        it was made over (by default the planning devices, by key)."""
        if host is None or remotes is None:
            host, remotes = keyed_specs(self.devices())
        return await size(self._sizing, profile, prediction, n_ctx, caps(host, remotes))

    def sized_at_hand(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction:
        """``prediction`` sized as llama.cpp already sized its plan, without waiting; as it is when
        llama.cpp has not been asked yet (``sized``)."""
        figures = self._sizing.known(profile, prediction.plan, n_ctx)
        if figures is None:
            return prediction
        return with_compute(prediction, figures, caps(*keyed_specs(self.devices())))

    async def compute(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> dict[str, int] | None:
        """Each device's compute buffer for ``plan`` as llama.cpp's dry run sizes it; None when it
        cannot say."""
        return await self._sizing.compute(profile, plan, n_ctx)

    def fit(self, profile: ModelProfile, n_ctx: int | None = None) -> Fit:
        """Whether ``profile`` fits this device, the paired devices together, or neither, as the
        planner would place it over the devices as this node sees them now."""
        host, remotes = named_specs(self.devices())
        return fit(profile, host, remotes, n_ctx)

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
