"""Choosing the plan that answers fastest, exactly, under every device's memory.

Cost model, per generated token: every device reads the weights of its layers (decode is bound by
memory bandwidth, so time = bytes / the device's measured bytes per second), every remote device costs
one hop (a network round trip plus the activations), and the host also runs the output head. Memory per
device comes from ``core.memory``. The host always holds the first range (llama.cpp keeps the first
layers on the host), possibly empty; remote devices follow in any order.

The optimum is exact: a dynamic programme over (set of remote devices used, layers placed so far). For a
device appended after the placed prefix the feasible starts of its range form a window that only moves
forward as the range's end does (memory grows with the range), so each step is a sliding-window
minimum: O(2^(D-1) · D · L) for D devices and L layers.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from hearth.core.memory import DeviceMemory, device_memory
from hearth.core.plan import HOST, Assignment, Plan, PlanError, PlanKey, validate
from hearth.core.profile import ModelProfile
from hearth.core.repack import NO_REPACK, RepackRules
from hearth.core.units import MIB


@dataclass(frozen=True)
class DeviceSpec:
    name: PlanKey
    memory_bytes: int  # what this plan may use there: donated (or free) memory less headroom
    bytes_per_s: float  # weights read per second while decoding, from the speed probe
    hop_s: float = 0.0  # per-token cost of reaching it from the host; 0 for the host
    # The weights its CPU backend copies into a repacked layout (the host's; a worker's are plain).
    repack: RepackRules = NO_REPACK


@dataclass(frozen=True)
class Placement:
    device: PlanKey
    start: int
    end: int
    memory: DeviceMemory
    seconds: float  # this device's share of one token


@dataclass(frozen=True)
class Overflow:
    """A device that a plan would not fit on: the memory it would need and the memory it has."""

    device: PlanKey
    need: int
    cap: int

    @property
    def excess(self) -> int:
        return self.need - self.cap

    def message(self, name: str | None = None) -> str:
        """In English, for the command line; the window words it in the user's language."""
        return (
            f"{name or self.device} would need {self.need / MIB:.0f} MiB but has {self.cap / MIB:.0f} MiB: "
            f"over by {self.excess / MIB:.0f} MiB"
        )


@dataclass(frozen=True)
class Prediction:
    plan: Plan
    placements: tuple[Placement, ...]
    seconds_per_token: float
    left_out: dict[PlanKey, str]  # device -> why it holds nothing
    over: dict[PlanKey, Overflow] = field(default_factory=dict)  # device -> what it would lack
    # True once the compute buffers are llama.cpp's own sizing (``with_compute``), not the estimate.
    sized_by_llama: bool = False

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.seconds_per_token if self.seconds_per_token > 0 else 0.0


class CostModel:
    """Per-device costs and memory of candidate ranges, for one model and context."""

    def __init__(
        self, profile: ModelProfile, n_ctx: int, cache_type: str, repack: RepackRules = NO_REPACK
    ) -> None:
        self.profile = profile
        self.n_ctx = n_ctx
        self.cache_type = cache_type
        self.repack = repack
        self.L = profile.block_count
        # What a token reads per layer: in a mixture of experts, only its experts' share of them.
        self.prefix = [0.0, *itertools.accumulate(profile.read_bytes(i, i + 1) for i in range(self.L))]
        self._head = profile.output_bytes or profile.token_embd_bytes  # tied embeddings serve as the head
        self._memory: dict[tuple[int, int, bool], DeviceMemory] = {}

    def memory(self, start: int, end: int, host: bool) -> DeviceMemory:
        """``core.memory.device_memory``, remembered: the solver asks for the same ranges many times."""
        key = (start, end, host)
        known = self._memory.get(key)
        if known is None:
            known = self._memory[key] = device_memory(
                self.profile, start, end, self.n_ctx, self.cache_type, host=host, repack=self.repack
            )
        return known

    def fits(self, dev: DeviceSpec, start: int, end: int, host: bool) -> bool:
        return self.memory(start, end, host).total <= dev.memory_bytes

    def seconds(self, dev: DeviceSpec, start: int, end: int, host: bool) -> float:
        if host:
            return (self.prefix[end] - self.prefix[start] + self._head) / dev.bytes_per_s
        if end == start:
            return 0.0
        return (self.prefix[end] - self.prefix[start]) / dev.bytes_per_s + dev.hop_s


def _placements(model: CostModel, devices: Mapping[PlanKey, DeviceSpec], plan: Plan) -> tuple[Placement, ...]:
    out = []
    for a in plan.assignments:
        host = a.device == HOST
        dev = devices[a.device]
        out.append(
            Placement(
                a.device,
                a.start,
                a.end,
                model.memory(a.start, a.end, host),
                model.seconds(dev, a.start, a.end, host),
            )
        )
    return tuple(out)


def predict(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    plan: Plan,
    n_ctx: int,
    cache_type: str = "f16",
) -> Prediction:
    """Memory and speed of a given plan, with every device that would overflow named in ``over``."""
    validate(plan)
    if not profile.format.can_pool and any(a.device != HOST and a.end > a.start for a in plan.assignments):
        raise PlanError("an MLX model runs on this device alone; pooling needs the model as GGUF")
    model = CostModel(profile, n_ctx, cache_type, host.repack)
    devices = {HOST: host, **{d.name: d for d in remotes}}
    if plan.assignments[0].device != HOST:
        plan = Plan(plan.n_layers, (Assignment(HOST, 0, 0), *plan.assignments))
    for a in plan.assignments:
        if a.device not in devices:
            raise PlanError(f"the plan names '{a.device}', which is not among the devices")
    placements = _placements(model, devices, plan)
    over = {}
    for p in placements:
        cap = devices[p.device].memory_bytes
        if p.memory.total > cap:
            over[p.device] = Overflow(p.device, p.memory.total, cap)
    used = {p.device for p in placements if p.end > p.start}
    left = {d.name: "not in the plan" for d in remotes if d.name not in used}
    return Prediction(plan, placements, sum(p.seconds for p in placements), left, over)


def with_compute(pred: Prediction, compute: Mapping[str, int], caps: Mapping[str, int]) -> Prediction:
    """``pred`` with each device's compute buffer as llama.cpp's dry run sized it, and the devices that
    would overflow with those figures (``caps``: what each device may use, by the plan's names)."""
    placements = tuple(
        dataclasses.replace(
            p, memory=dataclasses.replace(p.memory, compute=compute.get(p.device, p.memory.compute))
        )
        for p in pred.placements
    )
    over = {
        p.device: Overflow(p.device, p.memory.total, caps[p.device])
        for p in placements
        if p.device in caps and p.memory.total > caps[p.device]
    }
    return dataclasses.replace(pred, placements=placements, over=over, sized_by_llama=True)


def evaluate(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    plan: Plan,
    n_ctx: int,
    cache_type: str = "f16",
) -> Prediction:
    """Like ``predict``, but PlanError names the first device that would overflow, by how much."""
    prediction = predict(profile, host, remotes, plan, n_ctx, cache_type)
    if prediction.over:
        raise PlanError(next(iter(prediction.over.values())).message())
    return prediction


def auto_plan(
    profile: ModelProfile, host: DeviceSpec, remotes: list[DeviceSpec], n_ctx: int, cache_type: str = "f16"
) -> Prediction:
    """The fastest plan under the cost model that fits every device; PlanError if none fits."""
    if not profile.format.can_pool:
        remotes = []  # MLX runs on this device alone: pooling is llama.cpp's
    model = CostModel(profile, n_ctx, cache_type, host.repack)
    L = model.L
    D = len(remotes)
    inf = float("inf")
    # dp[S][j]: least time for the host plus the devices in S (bitmask) holding layers [0, j).
    dp = [[inf] * (L + 1) for _ in range(1 << D)]
    back: list[list[tuple[int, int, int] | None]] = [[None] * (L + 1) for _ in range(1 << D)]
    for j in range(L + 1):
        if model.fits(host, 0, j, True):
            dp[0][j] = model.seconds(host, 0, j, True)
    for mask in range(1 << D):
        row = dp[mask]
        if all(v == inf for v in row):
            continue
        for d, dev in enumerate(remotes):
            if mask >> d & 1:
                continue
            target, target_back = dp[mask | 1 << d], back[mask | 1 << d]
            rate = dev.bytes_per_s
            # Window minimum of row[k] - prefix[k]/rate over feasible starts k of a range ending at j.
            window: deque[int] = deque()
            k_min = 0
            k_next = 0
            for j in range(1, L + 1):
                while k_next < j:
                    value = row[k_next] - model.prefix[k_next] / rate
                    while window and row[window[-1]] - model.prefix[window[-1]] / rate >= value:
                        window.pop()
                    window.append(k_next)
                    k_next += 1
                while k_min < j and not model.fits(dev, k_min, j, False):
                    k_min += 1
                while window and window[0] < k_min:
                    window.popleft()
                if not window or k_min >= j:
                    continue
                k = window[0]
                if row[k] == inf:
                    continue
                cost = row[k] + model.seconds(dev, k, j, False)
                if cost < target[j]:
                    target[j] = cost
                    target_back[j] = (mask, k, d)
    best_mask = min(range(1 << D), key=lambda s: dp[s][L])
    if dp[best_mask][L] == inf:
        raise PlanError(_no_fit_reason(model, host, remotes))
    ranges: list[Assignment] = []
    mask, j = best_mask, L
    while mask:
        step = back[mask][j]
        assert step is not None
        prev, k, d = step
        ranges.append(Assignment(remotes[d].name, k, j))
        mask, j = prev, k
    assignments = (Assignment(HOST, 0, j), *reversed(ranges))
    plan = validate(Plan(L, assignments))
    devices = {HOST: host, **{d.name: d for d in remotes}}
    placements = _placements(model, devices, plan)
    used = {a.device for a in plan.remote}
    left = {d.name: _why_left_out(model, d, dp[best_mask][L]) for d in remotes if d.name not in used}
    return Prediction(plan, placements, dp[best_mask][L], left)


def _why_left_out(model: CostModel, dev: DeviceSpec, best: float) -> str:
    if not model.fits(dev, 0, 1, False):
        need = model.memory(0, 1, False).total / MIB
        return f"no room: one layer needs {need:.0f} MiB, it offers {dev.memory_bytes / MIB:.0f} MiB"
    return (
        f"not worth it: reaching it costs {dev.hop_s * 1000:.1f} ms a token, more than its layers would save"
    )


def _no_fit_reason(model: CostModel, host: DeviceSpec, remotes: list[DeviceSpec]) -> str:
    total = model.memory(0, model.L, True).total
    offered = host.memory_bytes + sum(d.memory_bytes for d in remotes)
    return (
        f"the model does not fit: it needs about {total / MIB:.0f} MiB with this context, "
        f"the devices offer {offered / MIB:.0f} MiB together"
    )
