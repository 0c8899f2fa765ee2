"""Choosing the plan that answers fastest, exactly, under every device's memory.

Cost model, per generated token: every pool reads the weights of its layers (decode is bound by memory
bandwidth, so time = bytes / the pool's measured bytes per second) and pays a fixed cost for each of
them (``core.speed``), every remote device costs one hop (a network round trip plus the activations),
and the host also runs the output head and pays what a token costs it beyond its layers. A device is one
or more pools: its accelerators (a GPU's VRAM, or Apple Silicon's unified memory, counted once) and
its CPU with the RAM. Within a remote device a range runs through its accelerators first, then its
CPU, with no hop between them; the host keeps the first range on its CPU (llama.cpp keeps the first
layers there), then its accelerators, and computes the head on its first accelerator when that holds
layers. Memory per pool comes from ``core.memory``; remote devices follow the host in any order.

The optimum is exact: a dynamic programme over (set of remote devices used, layers placed so far). For
a pool appended after the placed prefix the feasible starts of its range form a window that only moves
forward as the range's end does (memory grows with the range), so each step is a sliding-window
minimum: O(2^(D-1) · D · P · L) for D devices of at most P pools and L layers.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from hearth.core.memory import F32, DeviceMemory, device_memory
from hearth.core.plan import (
    HOST,
    Assignment,
    Plan,
    PlanError,
    PlanKey,
    device_of,
    pool_key,
    split_key,
    validate,
)
from hearth.core.profile import ModelProfile
from hearth.core.repack import NO_REPACK, RepackRules
from hearth.core.units import MIB


@dataclass(frozen=True)
class Pool:
    """An accelerator's memory, as a plan may use it."""

    name: str  # as the device calls it: "NVIDIA GeForce RTX 3060"
    memory_bytes: int  # what this plan may use there (free VRAM less headroom, or the donor's cap)
    bytes_per_s: float  # weights read per second while decoding there
    layer_s: float = 0.0  # what each layer costs there beyond its weights


@dataclass(frozen=True)
class DeviceSpec:
    name: PlanKey
    memory_bytes: int  # what this plan may use of its RAM: donated (or free) memory less headroom
    bytes_per_s: float  # weights read per second while its CPU decodes, from the speed probe
    hop_s: float = 0.0  # per-token cost of reaching it from the host; 0 for the host
    # The weights its CPU backend copies into a repacked layout (the host's; a worker's are plain).
    repack: RepackRules = NO_REPACK
    # Its GPUs, in the order llama.cpp lists them; plan keys ``pool_key(name, i)``.
    accelerators: tuple[Pool, ...] = ()
    layer_s: float = 0.0  # what each layer costs its CPU beyond its weights, from the probe
    token_s: float = 0.0  # the host's: what each token costs beyond its layers, from the probe


class Role(Enum):
    """What a pool holds beside its layers, which decides its memory."""

    PLAIN = "plain"  # layers only
    HOST = "host"  # the host's CPU: the token embedding, and the head unless an accelerator has it
    HOST_NO_HEAD = "host-no-head"  # the host's CPU while its first accelerator computes the head
    HEAD = "head"  # the host's first accelerator, computing the head


@dataclass(frozen=True)
class _Stage:
    """One pool as the solver walks it: a range of layers, possibly empty unless ``required``."""

    key: PlanKey
    memory_bytes: int
    bytes_per_s: float
    role: Role = Role.PLAIN
    required: bool = False
    layer_s: float = 0.0

    def seconds(self, model: CostModel, start: int, end: int) -> float:
        """What layers ``[start, end)`` cost a token here."""
        return model.reads(start, end) / self.bytes_per_s + (end - start) * self.layer_s

    def upto(self, model: CostModel, j: int) -> float:
        """What layers ``[0, j)`` would cost here: a range's cost is the difference of two."""
        return model.prefix[j] / self.bytes_per_s + j * self.layer_s


def _stages(dev: DeviceSpec, host_head_on_gpu: bool = False) -> list[_Stage]:
    """The pools a device's range runs through, in order."""
    gpus = [
        _Stage(pool_key(dev.name, i), p.memory_bytes, p.bytes_per_s, layer_s=p.layer_s)
        for i, p in enumerate(dev.accelerators)
    ]
    cpu = _Stage(dev.name, dev.memory_bytes, dev.bytes_per_s, layer_s=dev.layer_s)
    if dev.name != HOST:
        return [*gpus, cpu]
    # The head is on the first accelerator exactly when that holds layers (the engine's rule too).
    if not host_head_on_gpu or not gpus:
        return [dataclasses.replace(cpu, role=Role.HOST), *gpus[1:]]
    first = dataclasses.replace(gpus[0], role=Role.HEAD, required=True)
    return [dataclasses.replace(cpu, role=Role.HOST_NO_HEAD), first, *gpus[1:]]


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
    # The answers the load decodes together: every device's KV cache counts that many contexts.
    at_once: int = 1

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.seconds_per_token if self.seconds_per_token > 0 else 0.0


def answers_of(profile: ModelProfile, at_once: int) -> int:
    """The answers a load of ``profile`` decodes together when ``at_once`` are asked for: MLX's
    runtime answers one at a time."""
    return max(1, at_once) if profile.format.can_pool else 1


class CostModel:
    """Per-pool costs and memory of candidate ranges, for one model and context."""

    def __init__(
        self,
        profile: ModelProfile,
        n_ctx: int,
        cache_type: str,
        repack: RepackRules = NO_REPACK,
        at_once: int = 1,
    ) -> None:
        self.profile = profile
        self.n_ctx = n_ctx
        self.cache_type = cache_type
        self.repack = repack
        self.at_once = answers_of(profile, at_once)
        self.L = profile.block_count
        # What a token reads per layer: in a mixture of experts, only its experts' share of them.
        self.prefix = [0.0, *itertools.accumulate(profile.read_bytes(i, i + 1) for i in range(self.L))]
        self._head = profile.output_bytes or profile.token_embd_bytes  # tied embeddings serve as the head
        self._memory: dict[tuple[int, int, Role], DeviceMemory] = {}

    def memory(self, start: int, end: int, host: bool | Role) -> DeviceMemory:
        """``core.memory.device_memory`` for a pool of the given role (True: the host's CPU with the
        head, False: layers only), remembered: the solver asks for the same ranges many times."""
        role = host if isinstance(host, Role) else Role.HOST if host else Role.PLAIN
        key = (start, end, role)
        known = self._memory.get(key)
        if known is None:
            known = self._memory[key] = self._size(start, end, role)
        return known

    def _size(self, start: int, end: int, role: Role) -> DeviceMemory:
        on_host = role in (Role.HOST, Role.HOST_NO_HEAD)
        size = device_memory(
            self.profile,
            start,
            end,
            self.n_ctx,
            self.cache_type,
            host=on_host,
            repack=self.repack if on_host else NO_REPACK,
            at_once=self.at_once,
        )
        logits = self.profile.vocab_size * F32
        if role is Role.HOST_NO_HEAD:
            # The head and its logits are on the first accelerator instead; a tied embedding is pinned
            # there whole (the engine does so), so the host keeps no copy of it.
            return dataclasses.replace(
                size, weights=size.weights - self._head, compute=max(0, size.compute - logits)
            )
        if role is Role.HEAD:
            return dataclasses.replace(size, weights=size.weights + self._head, compute=size.compute + logits)
        return size

    def fits(self, dev: DeviceSpec | _Stage, start: int, end: int, host: bool | Role) -> bool:
        return self.memory(start, end, host).total <= dev.memory_bytes

    def reads(self, start: int, end: int) -> float:
        """Bytes a token reads from layers ``[start, end)``."""
        return self.prefix[end] - self.prefix[start]

    def head_seconds(self, host: DeviceSpec, on_gpu: bool) -> float:
        """The head's share of a token, with what a token costs the host beyond its layers."""
        rate = host.accelerators[0].bytes_per_s if on_gpu else host.bytes_per_s
        return self._head / rate + host.token_s

    def seconds(self, dev: DeviceSpec, start: int, end: int, host: bool) -> float:
        """A CPU range's share of a token (the host's with the head; another device's with its hop)."""
        layers = self.reads(start, end) / dev.bytes_per_s + (end - start) * dev.layer_s
        if host:
            return layers + self.head_seconds(dev, False)
        if end == start:
            return 0.0
        return layers + dev.hop_s


_INF = float("inf")


def _walk(model: CostModel, stages: list[_Stage], entry: list[float]) -> tuple[list[float], list[list[int]]]:
    """Least cost of having placed ``[0, j)`` after a range through ``stages`` that starts where
    ``entry`` left off, for every ``j``; and per stage, where its range ending at ``j`` starts."""
    L = model.L
    cur = entry
    backs = []
    for st in stages:
        new = [_INF] * (L + 1)
        back = [-1] * (L + 1)
        if not st.required:
            fixed = st.role is not Role.PLAIN  # its share beyond the layers must fit even with none
            for j in range(L + 1):
                if cur[j] < _INF and (not fixed or model.fits(st, j, j, st.role)):
                    new[j], back[j] = cur[j], j
        # Window minimum of cur[k] - upto(k) over the feasible starts k of a range ending at j.
        window: deque[int] = deque()
        k_min = k_next = 0
        for j in range(1, L + 1):
            while k_next < j:
                value = cur[k_next] - st.upto(model, k_next)
                while window and cur[window[-1]] - st.upto(model, window[-1]) >= value:
                    window.pop()
                window.append(k_next)
                k_next += 1
            while k_min < j and not model.fits(st, k_min, j, st.role):
                k_min += 1
            while window and window[0] < k_min:
                window.popleft()
            if not window or k_min >= j or cur[window[0]] == _INF:
                continue
            k = window[0]
            cost = cur[k] + st.seconds(model, k, j)
            if cost < new[j]:
                new[j], back[j] = cost, k
        backs.append(back)
        cur = new
    return cur, backs


def _ranges(stages: list[_Stage], backs: list[list[int]], j: int) -> tuple[int, list[Assignment]]:
    """Where the walk that ended at ``j`` entered, and the ranges it placed, in order."""
    out = []
    for st, back in zip(reversed(stages), reversed(backs), strict=True):
        k = back[j]
        out.append(Assignment(st.key, k, j))
        j = k
    return j, out[::-1]


def _host_walk(
    model: CostModel, host: DeviceSpec
) -> tuple[list[float], list[tuple[list[_Stage], list[list[int]]] | None]]:
    """Least cost of the host holding ``[0, j)``, head included, and which of its walks gave it."""
    L = model.L
    best = [_INF] * (L + 1)
    how: list[tuple[list[_Stage], list[list[int]]] | None] = [None] * (L + 1)
    for on_gpu in (False, True) if host.accelerators else (False,):
        stages = _stages(host, host_head_on_gpu=on_gpu)
        entry = [model.head_seconds(host, on_gpu)] + [_INF] * L
        cost, backs = _walk(model, stages, entry)
        for j in range(L + 1):
            if cost[j] < best[j]:
                best[j], how[j] = cost[j], (stages, backs)
    return best, how


def _roles(
    host: DeviceSpec, remotes: list[DeviceSpec], plan: Plan
) -> dict[PlanKey, tuple[_Stage, DeviceSpec]]:
    """Each pool a plan may name, as the solver sees it, with the device it belongs to."""
    head_on_gpu = any(a.device == pool_key(HOST, 0) and a.count for a in plan.assignments)
    out = {st.key: (st, host) for st in _stages(host, head_on_gpu)}
    if host.accelerators and not head_on_gpu:  # named with no layers: it holds nothing
        first = host.accelerators[0]
        out[pool_key(HOST, 0)] = (
            _Stage(pool_key(HOST, 0), first.memory_bytes, first.bytes_per_s, layer_s=first.layer_s),
            host,
        )
    for dev in remotes:
        out.update({st.key: (st, dev) for st in _stages(dev)})
    return out


def _placements(
    model: CostModel, host: DeviceSpec, remotes: list[DeviceSpec], plan: Plan
) -> tuple[tuple[Placement, ...], float]:
    """Each range's memory and share of a token, and the token's whole time."""
    pools = _roles(host, remotes, plan)
    on_gpu = pools[HOST][0].role is Role.HOST_NO_HEAD
    total = model.head_seconds(host, on_gpu)
    out = []
    previous: PlanKey | None = None
    for a in plan.assignments:
        st, dev = pools[a.device]
        seconds = st.seconds(model, a.start, a.end)
        owner = device_of(a.device)
        if a.count and owner != HOST and owner != previous:
            seconds += dev.hop_s  # one hop into each device, none between its pools
        if a.count:
            previous = owner
        if a.device == HOST:
            seconds += total
        out.append(Placement(a.device, a.start, a.end, model.memory(a.start, a.end, st.role), seconds))
    return tuple(out), sum(p.seconds for p in out)


def capacities(host: DeviceSpec, remotes: list[DeviceSpec]) -> dict[PlanKey, int]:
    """What each pool may use, by the keys a plan gives them."""
    out = {HOST: host.memory_bytes, **{d.name: d.memory_bytes for d in remotes}}
    for dev in (host, *remotes):
        out.update({pool_key(dev.name, i): p.memory_bytes for i, p in enumerate(dev.accelerators)})
    return out


def _known(plan: Plan, host: DeviceSpec, remotes: list[DeviceSpec]) -> None:
    keys = {HOST} | {pool_key(d.name, i) for d in (host, *remotes) for i in range(len(d.accelerators))}
    keys |= {d.name for d in remotes}
    for a in plan.assignments:
        if a.device not in keys:
            device, gpu = split_key(a.device)
            if gpu is not None and device in {HOST, *(d.name for d in remotes)}:
                raise PlanError(f"the plan names '{a.device}', but {device} has no accelerator number {gpu}")
            raise PlanError(f"the plan names '{a.device}', which is not among the devices")


def predict(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    plan: Plan,
    n_ctx: int,
    cache_type: str = "f16",
    at_once: int = 1,
) -> Prediction:
    """Memory and speed of a given plan, with every device that would overflow named in ``over``;
    ``at_once`` answers decoded together, each with its own KV cache."""
    validate(plan)
    if not profile.format.can_pool and any(a.device != HOST and a.end > a.start for a in plan.assignments):
        raise PlanError("an MLX model runs on this device alone; pooling needs the model as GGUF")
    model = CostModel(profile, n_ctx, cache_type, host.repack, at_once)
    if plan.assignments[0].device != HOST:
        plan = Plan(plan.n_layers, (Assignment(HOST, 0, 0), *plan.assignments))
    _known(plan, host, remotes)
    placements, seconds = _placements(model, host, remotes, plan)
    caps = capacities(host, remotes)
    over = {}
    for p in placements:
        if p.memory.total > caps[p.device]:
            over[p.device] = Overflow(p.device, p.memory.total, caps[p.device])
    used = {device_of(p.device) for p in placements if p.end > p.start}
    left = {d.name: "not in the plan" for d in remotes if d.name not in used}
    return Prediction(plan, placements, seconds, left, over, at_once=model.at_once)


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
    at_once: int = 1,
) -> Prediction:
    """Like ``predict``, but PlanError names the first device that would overflow, by how much."""
    prediction = predict(profile, host, remotes, plan, n_ctx, cache_type, at_once)
    if prediction.over:
        raise PlanError(next(iter(prediction.over.values())).message())
    return prediction


Step = tuple[int, list[Assignment]]  # the mask before a device was added, and the ranges it placed


def auto_plan(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    n_ctx: int,
    cache_type: str = "f16",
    at_once: int = 1,
) -> Prediction:
    """The fastest plan under the cost model that fits every pool, with the KV caches of ``at_once``
    answers; PlanError if none fits."""
    if not profile.format.can_pool:
        remotes = []  # MLX runs on this device alone: pooling is llama.cpp's
        host = dataclasses.replace(host, accelerators=())  # and MLX places its own layers
    model = CostModel(profile, n_ctx, cache_type, host.repack, at_once)
    L = model.L
    D = len(remotes)
    # dp[S][j]: least time for the host plus the devices in S (bitmask) holding layers [0, j).
    dp = [[_INF] * (L + 1) for _ in range(1 << D)]
    back: list[list[Step | None]] = [[None] * (L + 1) for _ in range(1 << D)]
    dp[0], host_how = _host_walk(model, host)
    stages = [_stages(dev) for dev in remotes]
    for mask in range(1 << D):
        row = dp[mask]
        if all(v == _INF for v in row):
            continue
        for d, dev in enumerate(remotes):
            if mask >> d & 1:
                continue
            target, target_back = dp[mask | 1 << d], back[mask | 1 << d]
            cost, backs = _walk(model, stages[d], [v + dev.hop_s for v in row])
            for j in range(1, L + 1):
                if cost[j] < target[j]:
                    target[j] = cost[j]
                    target_back[j] = (mask, _ranges(stages[d], backs, j)[1])
    best_mask = min(range(1 << D), key=lambda s: dp[s][L])
    if dp[best_mask][L] == _INF:
        raise PlanError(_no_fit_reason(model, host, remotes))
    ranges: list[Assignment] = []
    mask, j = best_mask, L
    while mask:
        step = back[mask][j]
        assert step is not None
        mask, placed = step
        ranges = [*placed, *ranges]
        j = placed[0].start
    how = host_how[j]
    assert how is not None
    host_ranges = _ranges(*how, j)[1]
    assignments = [host_ranges[0], *(a for a in (*host_ranges[1:], *ranges) if a.count)]
    plan = validate(Plan(L, tuple(assignments)))
    placements, seconds = _placements(model, host, remotes, plan)
    used = {device_of(a.device) for a in plan.remote}
    left = {d.name: _why_left_out(model, d, dp[best_mask][L]) for d in remotes if d.name not in used}
    return Prediction(plan, placements, seconds, left, at_once=model.at_once)


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
