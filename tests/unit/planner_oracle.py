"""The planner's test oracle: every contiguous plan, enumerated (small cases only)."""

from __future__ import annotations

import itertools

from hearth.core.planner import CostModel, DeviceSpec, Role
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


def brute_force_pools(
    profile: ModelProfile, host: DeviceSpec, remotes: list[DeviceSpec], n_ctx: int, cache_type: str = "f16"
) -> float:
    """Least cost over every contiguous plan over every pool (empty ranges allowed), by enumeration:
    the host's CPU first, then its accelerators, then remote devices in any order, each through its
    accelerators and then its CPU; the head on the host's first accelerator exactly when that holds
    layers; one hop into each remote device that holds any."""
    model = CostModel(profile, n_ctx, cache_type)
    L = model.L
    head = profile.output_bytes or profile.token_embd_bytes
    best = float("inf")
    host_pools = [
        (host.memory_bytes, host.bytes_per_s, "cpu"),
        *((p.memory_bytes, p.bytes_per_s, "gpu") for p in host.accelerators),
    ]
    for r in range(len(remotes) + 1):
        for order in itertools.permutations(remotes, r):
            pools: list[tuple[int, float, str, DeviceSpec | None]] = [(*p, None) for p in host_pools]
            for dev in order:
                pools += [(p.memory_bytes, p.bytes_per_s, "gpu", dev) for p in dev.accelerators]
                pools.append((dev.memory_bytes, dev.bytes_per_s, "cpu", dev))
            for cuts in itertools.combinations_with_replacement(range(L + 1), len(pools) - 1):
                bounds = [0, *cuts, L]
                ranges = [(bounds[i], bounds[i + 1]) for i in range(len(pools))]
                head_on_gpu = len(host_pools) > 1 and ranges[1][1] > ranges[1][0]
                cost = head / (host.accelerators[0].bytes_per_s if head_on_gpu else host.bytes_per_s)
                held: dict[int, int] = {}
                ok = True
                for i, ((cap, rate, _, owner), (s, e)) in enumerate(zip(pools, ranges, strict=True)):
                    if i == 0:
                        role = Role.HOST_NO_HEAD if head_on_gpu else Role.HOST
                    elif i == 1 and owner is None and head_on_gpu:
                        role = Role.HEAD
                    else:
                        role = Role.PLAIN
                    if (e > s or role is not Role.PLAIN) and model.memory(s, e, role).total > cap:
                        ok = False
                        break
                    cost += model.reads(s, e) / rate
                    if owner is not None:
                        held[id(owner)] = held.get(id(owner), 0) + e - s
                if not ok or any(held.get(id(dev), 0) == 0 for dev in order):
                    continue
                cost += sum(dev.hop_s for dev in order)
                best = min(best, cost)
    return best
