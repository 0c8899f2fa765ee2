"""The planner's test oracle: every contiguous plan, enumerated (small cases only)."""

from __future__ import annotations

import itertools

from hearth.core.planner import CostModel, DeviceSpec
from hearth.core.profile import ModelProfile


def brute_force(
    profile: ModelProfile, host: DeviceSpec, remotes: list[DeviceSpec], n_ctx: int, cache_type: str = "f16"
) -> float:
    """Least cost over every contiguous plan, by enumeration."""
    model = CostModel(profile, n_ctx, cache_type)
    L = model.L
    best = float("inf")
    for r in range(len(remotes) + 1):
        for order in itertools.permutations(remotes, r):
            # Cut points 0 <= c0 <= c1 <= ... <= L; each remote device gets at least one layer.
            for cuts in itertools.combinations(range(L + 1), r):
                bounds = [*cuts, L]
                if any(bounds[i] >= bounds[i + 1] for i in range(r)):
                    continue
                host_end = bounds[0] if r else L
                if not model.fits(host, 0, host_end, True):
                    continue
                cost = model.seconds(host, 0, host_end, True)
                ok = True
                for i, dev in enumerate(order):
                    s, e = bounds[i], bounds[i + 1]
                    if not model.fits(dev, s, e, False):
                        ok = False
                        break
                    cost += model.seconds(dev, s, e, False)
                if ok:
                    best = min(best, cost)
    return best
