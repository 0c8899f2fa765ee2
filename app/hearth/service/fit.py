"""Whether a model fits this device, the household's paired devices together, or neither.

The answer comes from the planner itself (the same memory model and search as ``hearth plan`` and Load),
so a model said to fit is one that Load will accept over the same devices.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from hearth.core.plan import PlanError
from hearth.core.planner import DeviceSpec, auto_plan
from hearth.core.profile import ModelProfile, default_context


class Verdict(StrEnum):
    ALONE = "fits this device"
    POOLED = "fits with your paired devices"
    TOO_LARGE = "too large"


class Fit(msgspec.Struct, frozen=True):
    verdict: Verdict
    devices: int  # devices the best plan uses (this one included); 0 when too large
    tokens_per_s: float  # of the best plan; 0 when too large
    plan: str  # the best plan, as `hearth plan` prints it; "" when too large
    n_ctx: int
    why: str = ""  # when too large: what the planner said

    def label(self) -> str:
        if self.verdict is Verdict.POOLED:
            return f"{self.verdict} ({self.devices} devices)"
        return str(self.verdict)


def fit(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    n_ctx: int | None = None,
    at_once: int = 1,
) -> Fit:
    """``at_once``: the answers the user asked loads to give together, each with its own KV cache
    (left to memory, a load gives at least one)."""
    n_ctx = n_ctx or default_context(profile)
    try:
        best = auto_plan(profile, host, remotes, n_ctx, at_once=at_once)
    except PlanError as exc:
        return Fit(Verdict.TOO_LARGE, 0, 0.0, "", n_ctx, str(exc))
    try:
        auto_plan(profile, host, [], n_ctx, at_once=at_once)
        verdict = Verdict.ALONE
    except PlanError:
        verdict = Verdict.POOLED
    devices = 1 + len(best.plan.remote_devices)
    return Fit(verdict, devices, best.tokens_per_s, str(best.plan), n_ctx)
