"""What the planner may use on each device, from the node's live view of the devices.

This device is the host: it may use its free memory less a headroom the system keeps. A paired device
takes part when it is connected and donating: it may use what it donates, and never more than its free
memory less the same headroom. Speed comes from each device's probe when it has reported one. A remote
device costs each token what the control channel measured of its link (``ControlChannel.hop_ms``: the
round trip, raised where it varies) plus llama.cpp's own RPC step, as this device measured it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

import msgspec

from hearth.core import offload
from hearth.core.control import ComputeDevice
from hearth.core.offload import Accelerator
from hearth.core.plan import HOST, Plan, PlanError, PlanKey, key_of, parse_plan, pool_key, split_key
from hearth.core.planner import (
    DeviceSpec,
    Prediction,
    auto_plan,
    capacities,
    evaluate,
    predict,
    with_compute,
)
from hearth.core.profile import ModelProfile
from hearth.core.repack import RepackRules
from hearth.core.units import MIB
from hearth.engine.batch_size import answers_at_once, describe
from hearth.service.device_view import DeviceView

# Decode speed assumed for a device that has not reported a probe: a typical laptop's memory bandwidth.
DEFAULT_BYTES_PER_S = 20e9
# RPC step assumed until this device has measured its own: about what one RPC server costs a token on
# loopback on a fast machine.
DEFAULT_RPC_STEP_S = 0.8e-3


class Sizing(Protocol):
    """llama.cpp's own sizing of a plan's compute buffers (``memory_check.MemoryCheck``)."""

    def known(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16", at_once: int = 1
    ) -> dict[str, int] | None: ...

    async def compute(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16", at_once: int = 1
    ) -> dict[str, int] | None: ...


# A paired device's GPUs the planner takes at most: llama.cpp lists every device of a load in one
# list of its own bounded size, and a device's telemetry is not trusted to keep it small.
MAX_LENT_GPUS = 4


def headroom(memory_total: int) -> int:
    """Memory left to the operating system and other programs."""
    return max(512 * MIB, memory_total // 10)


@dataclass(frozen=True)
class PlanningDevice:
    key: PlanKey  # HOST for this device, else its device ID
    name: str
    memory_total: int
    memory_free: int
    usable: int
    spec: DeviceSpec
    accelerator: str = ""
    # The GPUs the plan may use there, as ggml reports them: the host's each a pool of its own
    # (``spec.accelerators``), a donor's first the one its worker computes on.
    gpus: tuple[ComputeDevice, ...] = ()


@dataclass(frozen=True)
class PlanColumn:
    """One memory pool of a planning device, as the Planner shows it: a column that layers go to."""

    key: PlanKey  # the plan's key: the device's, or ``pool_key`` for one of the host's GPUs
    device: PlanKey
    name: str  # the device's
    gpu: str  # the GPU's name when the pool is its memory; "" for the device's RAM
    shares_ram: bool  # the GPU's memory is the RAM (Apple Silicon, an integrated GPU)
    memory_total: int
    memory_free: int
    usable: int


def _gpu_columns(d: PlanningDevice) -> list[PlanColumn]:
    return [
        PlanColumn(
            pool_key(d.key, i),
            d.key,
            d.name,
            gpu.description or gpu.name,
            gpu.shares_ram,
            gpu.memory_total,
            gpu.memory_free,
            pool.memory_bytes,
        )
        for i, (gpu, pool) in enumerate(zip(d.gpus, d.spec.accelerators, strict=False))
    ]


def plan_columns(devices: list[PlanningDevice]) -> list[PlanColumn]:
    """Each device's pools in pipeline order: the host's RAM, then its GPUs; then each other device's
    GPUs, then its RAM (the order its worker serves them in)."""
    out = []
    for d in devices:
        ram = PlanColumn(d.key, d.key, d.name, "", False, d.memory_total, d.memory_free, d.usable)
        if d.key == HOST:
            out += [ram, *_gpu_columns(d)]
        elif d.gpus and not d.spec.accelerators:
            # An older version's worker computes on its first GPU alone: its one column is that GPU.
            gpu = d.gpus[0]
            name = gpu.description or gpu.name
            out.append(
                PlanColumn(
                    d.key, d.key, d.name, name, gpu.shares_ram, gpu.memory_total, gpu.memory_free, d.usable
                )
            )
        else:
            out += [*_gpu_columns(d), ram]
    return out


def planning_devices(
    rows: list[DeviceView], held: Mapping[str, int] | None = None, without: Collection[str] = ()
) -> list[PlanningDevice]:
    """This device first, then every connected, donating paired device not in ``without``.

    ``held``: what the loaded model holds on each device (by plan key). Loading another model
    frees it first, so it counts as free; a device's own report no longer does."""
    out = []
    held = held or {}
    me = next((row for row in rows if row.this_device), None)
    step_ms = me.rpc_step_ms if me else None
    step = DEFAULT_RPC_STEP_S if step_ms is None else step_ms / 1000
    for row in rows:
        donated = row.donated_bytes or 0
        if row.this_device:
            key = HOST
        elif row.paired and row.connected and donated > 0 and row.device_id not in without:
            key = key_of(row.device_id)
        else:
            continue
        free = min(row.memory_total, (row.memory_free or 0) + held.get(key, 0))
        spare = max(0, free - headroom(row.memory_total))
        speed = min(row.bytes_per_s, MOST_BYTES_PER_S) if row.bytes_per_s > 0 else DEFAULT_BYTES_PER_S
        layer_s = min(max(0.0, row.layer_ms / 1000), MOST_LAYER_S)
        compute = [c for c in row.compute if c.accelerator]
        if key == HOST:
            # What the loaded model holds on a GPU is free to the next load, as its RAM is.
            compute = [
                msgspec.structs.replace(
                    c, memory_free=min(c.memory_total, c.memory_free + held.get(pool_key(HOST, i), 0))
                )
                for i, c in enumerate(compute)
            ]
        gpus = [_accelerator(c, c.memory_free) for c in compute]
        if key == HOST:
            # An integrated GPU's memory is the RAM (Apple Silicon's too): what the GPU may take is
            # free RAM, and not the CPU's as well.
            pools, left = [], spare
            for pool, c in zip(offload.pools(gpus), compute, strict=True):
                if c.shares_ram:
                    pool = dataclasses.replace(pool, memory_bytes=min(pool.memory_bytes, left))
                    left -= pool.memory_bytes
                pools.append(pool)
            usable, gpus_used = left, tuple(compute)
            spec = DeviceSpec(
                HOST,
                usable,
                speed,
                0.0,
                repack=host_repack(),
                accelerators=tuple(pools),
                layer_s=layer_s,
                token_s=row.token_ms / 1000,
            )
        else:
            hop = (row.hop_ms or row.latency_ms or 0.0) / 1000 + step
            lent = [c for c in row.served if c.accelerator][:MAX_LENT_GPUS]
            if lent:
                if not any(c.bytes_per_s for c in compute):
                    # No GPU of its probed yet, or an older version, whose CPU probe ran on its GPU:
                    # its figure is not its CPU's for sure.
                    speed = min(speed, DEFAULT_BYTES_PER_S)
                cpu = DeviceSpec(key, min(donated, spare), speed, hop, layer_s=layer_s)
                spec, gpus_used = _lending(cpu, held, lent, compute)
            elif gpus:
                # An older version's worker computes on its first GPU alone: layers there are held in
                # that GPU's memory, at its speed, whatever RAM it donates.
                vram = offload.pools(gpus[:1])[0]
                spec = DeviceSpec(key, min(donated, vram.memory_bytes), vram.bytes_per_s, hop)
                gpus_used = tuple(compute[:1])
            else:
                spec = DeviceSpec(key, min(donated, spare), speed, hop, layer_s=layer_s)
                gpus_used = ()
            usable = spec.memory_bytes
        out.append(
            PlanningDevice(key, row.name, row.memory_total, free, usable, spec, row.accelerator, gpus_used)
        )
    out.sort(key=lambda d: d.key != HOST)
    return out


# The fastest a probe is believed: past any memory a computer has (an H200 reads 4.8 TB/s), so a
# device's telemetry cannot draw every layer to itself by claiming more; and the most a layer costs.
MOST_BYTES_PER_S = 10e12
MOST_LAYER_S = 1.0


def _accelerator(c: ComputeDevice, free: int) -> Accelerator:
    """A GPU as the planner takes it: at its probe's speed, or a typical GPU's until it has one."""
    if 0 < c.bytes_per_s:
        speed = min(c.bytes_per_s, MOST_BYTES_PER_S)
        layer_s = min(max(0.0, c.layer_s), MOST_LAYER_S)
        return Accelerator(c.description or c.name, free, c.memory_total, speed, layer_s)
    return Accelerator(c.description or c.name, free, c.memory_total)


def _lending(
    cpu: DeviceSpec, held: Mapping[str, int], lent: list[ComputeDevice], compute: list[ComputeDevice]
) -> tuple[DeviceSpec, tuple[ComputeDevice, ...]]:
    """A donor whose worker serves its GPUs beside its CPU (``cpu``: the donor as its CPU alone, with
    the RAM it donates): a pool for each GPU, within what it lends there (``lent``: as its worker
    serves them, capped) and what is free of it less the driver's headroom, a GPU that shares the RAM
    taking from the RAM."""
    pools = []
    shown = []
    ram = cpu.memory_bytes
    for i, served in enumerate(lent):
        live = compute[i] if i < len(compute) else served
        free = min(live.memory_total, live.memory_free + held.get(pool_key(cpu.name, i), 0))
        (pool,) = offload.pools([_accelerator(live, free)])
        room = min(pool.memory_bytes, served.memory_total)
        if served.shares_ram:
            room = min(room, ram)
            ram -= room
        pools.append(dataclasses.replace(pool, memory_bytes=room))
        shown.append(msgspec.structs.replace(live, memory_free=free))
    return dataclasses.replace(cpu, memory_bytes=ram, accelerators=tuple(pools)), tuple(shown)


def this_device_alone() -> DeviceSpec:
    """This device as the planner sees it when no node runs to say more (free memory now, the
    assumed speed): what fit badges use without a node."""
    import psutil

    memory = psutil.virtual_memory()
    usable = max(0, memory.available - headroom(memory.total))
    return DeviceSpec(HOST, usable, DEFAULT_BYTES_PER_S, repack=host_repack())


def host_repack() -> RepackRules:
    """What this device's CPU repacks: llama.cpp's copies count in the host's memory."""
    from hearth.engine import backends

    return backends.repack_rules()


def keyed_specs(devices: list[PlanningDevice]) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The host and the others as the planner takes them, named by key (``host``, device IDs)."""
    return devices[0].spec, [d.spec for d in devices[1:]]


def named_specs(devices: list[PlanningDevice]) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The host and the others as the planner takes them, named as plans name them: by device
    name where it is unique, by ID where two devices share one."""
    names = [d.name for d in devices]
    specs = [
        dataclasses.replace(d.spec, name=PlanKey(d.name))
        # A name that reads as a pool's key ("pc/gpu0") would be taken for another device's GPU.
        if names.count(d.name) == 1 and d.key != HOST and split_key(PlanKey(d.name))[1] is None
        else d.spec
        for d in devices
    ]
    return specs[0], specs[1:]


def kv_budget(profile: ModelProfile, prediction: Prediction, n_ctx: int, room: Mapping[str, int]) -> int:
    """The KV cache, in bytes of the whole model's, that ``prediction``'s devices have room for beside
    their weights and compute buffers and the slack answers at once keep (``short_of_slack``; ``room``:
    what each may use). Each device holds the cache of its own layers, so the device with the least
    room for its share decides."""
    answers: int | None = None
    for p in prediction.placements:
        share = p.memory.kv // max(1, prediction.at_once)
        if share <= 0:
            continue
        spare = room.get(str(p.device), 0) - p.memory.weights - 2 * p.memory.compute
        fits = max(0, spare) // share
        answers = fits if answers is None else min(answers, fits)
    per_answer = profile.kv_bytes(n_ctx)
    return per_answer * (answers if answers is not None else 1)


def short_of_slack(prediction: Prediction, room: Mapping[str, int]) -> bool:
    """Whether a device of a plan for several answers at once would have less left than its compute
    buffer. Memory beyond what llama.cpp reserves comes out of that: ggml's work buffer for each
    graph (which a donor's filter counts against the donation) grows with the answers a pass
    carries, so answers left to memory never take a device to its last byte."""
    if prediction.at_once <= 1:
        return False
    return any(room.get(str(p.device), 0) - p.memory.total < p.memory.compute for p in prediction.placements)


def predict_at_once(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    plan: Plan,
    n_ctx: int,
    chosen: int = 0,
) -> Prediction:
    """``plan``'s prediction with the answers it would give at once: ``chosen`` (1 to 4), or with 0 as
    many as memory allows beside the weights (``answers_at_once``), at least one."""
    if chosen:
        return predict(profile, host, remotes, plan, n_ctx, at_once=chosen)
    one = predict(profile, host, remotes, plan, n_ctx)
    at_once = answers_at_once(profile, n_ctx, kv_budget(profile, one, n_ctx, caps(host, remotes)))
    return one if at_once <= 1 else predict(profile, host, remotes, plan, n_ctx, at_once=at_once)


def said_at_once(prediction: Prediction, n_ctx: int) -> str:
    """How many answers ``prediction`` gives together, each with a context of ``n_ctx`` tokens, as
    the command line says it: "4 answers at once at 4,096 tokens each"."""
    return describe(prediction.at_once, n_ctx)


def choose_plan(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    n_ctx: int,
    plan_text: str | None = None,
    is_host: Callable[[str], bool] | None = None,
    chosen: int = 0,
) -> Prediction:
    """The plan a user named, checked, or else the planner's best: what `hearth plan` shows and
    what a pooled chat without ``--plan`` loads. ``chosen``: the answers at once the user asked for
    (the plan must hold their KV caches); 0: the plan is made for one, and gives as many at once as
    memory then allows."""
    if plan_text:
        plan = parse_plan(plan_text, profile.block_count, is_host)
        evaluate(profile, host, remotes, plan, n_ctx, at_once=max(1, chosen))
    else:
        plan = auto_plan(profile, host, remotes, n_ctx, at_once=max(1, chosen)).plan
    return predict_at_once(profile, host, remotes, plan, n_ctx, chosen)


def caps(host: DeviceSpec, remotes: list[DeviceSpec]) -> dict[str, int]:
    """What each device (and each of its accelerators) may use, by the names the plan uses."""
    return {str(k): v for k, v in capacities(host, remotes).items()}


def shrunk(
    host: DeviceSpec, remotes: list[DeviceSpec], short: Mapping[PlanKey, int]
) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The devices with as much less room on each pool (a GPU's as a RAM's) as llama.cpp's sizing
    needs there beyond the estimate (``short``), to plan again with: a plan the estimate fits in
    that room then fits as llama.cpp sizes it."""

    def room(memory: int, key: PlanKey) -> int:
        return max(0, memory - short.get(key, 0))

    def less(d: DeviceSpec) -> DeviceSpec:
        pools = tuple(
            dataclasses.replace(p, memory_bytes=room(p.memory_bytes, pool_key(d.name, i)))
            for i, p in enumerate(d.accelerators)
        )
        return dataclasses.replace(d, memory_bytes=room(d.memory_bytes, d.name), accelerators=pools)

    return less(host), [less(d) for d in remotes]


def beyond_estimate(estimate: Prediction, sized: Prediction) -> dict[PlanKey, int]:
    """What llama.cpp's sizing of a plan needs on each of its pools beyond the estimate of it."""
    guessed = {p.device: p.memory.total for p in estimate.placements}
    return {p.device: p.memory.total - guessed[p.device] for p in sized.placements if p.device in guessed}


# How many times a plan is made again when llama.cpp sizes the planner's pick bigger than it fits.
REPLANS = 3


async def size(
    check: Sizing, profile: ModelProfile, prediction: Prediction, n_ctx: int, room: Mapping[str, int]
) -> Prediction:
    """``prediction`` with each device's compute buffer as llama.cpp's dry run sizes it, and what would
    overflow then (``room``: what each device may use); as it was when llama.cpp cannot say."""
    figures = await check.compute(profile, prediction.plan, n_ctx, "f16", prediction.at_once)
    return prediction if figures is None else with_compute(prediction, figures, room)


async def size_at_once(
    check: Sizing,
    profile: ModelProfile,
    prediction: Prediction,
    n_ctx: int,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    chosen: int = 0,
) -> Prediction:
    """``size``; where the answers at once were left to memory (``chosen`` 0) and llama.cpp sizes the
    plan past a device's room or its slack (``short_of_slack``), with fewer answers at once until it
    fits or only one is left."""
    room = caps(host, remotes)
    sized = await size(check, profile, prediction, n_ctx, room)
    while _wants_fewer(sized, room, chosen):
        fewer = predict(profile, host, remotes, prediction.plan, n_ctx, at_once=sized.at_once - 1)
        sized = await size(check, profile, fewer, n_ctx, room)
    return sized


def sized_known(
    check: Sizing,
    profile: ModelProfile,
    prediction: Prediction,
    n_ctx: int,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    chosen: int = 0,
) -> Prediction:
    """``size_at_once`` as far as llama.cpp has already sized, without waiting: the answers at once
    the page shows are the ones a load would take. Unsized (``sized_by_llama`` False) where a step of
    it was not asked yet."""
    room = caps(host, remotes)
    sized = prediction
    while True:
        figures = check.known(profile, sized.plan, n_ctx, "f16", sized.at_once)
        if figures is None:
            return sized
        sized = with_compute(sized, figures, room)
        if not _wants_fewer(sized, room, chosen):
            return sized
        sized = predict(profile, host, remotes, prediction.plan, n_ctx, at_once=sized.at_once - 1)


def _wants_fewer(sized: Prediction, room: Mapping[str, int], chosen: int) -> bool:
    """Whether answers at once left to memory (``chosen`` 0) should be fewer than ``sized`` gives."""
    return not chosen and sized.at_once > 1 and bool(sized.over or short_of_slack(sized, room))


async def choose_sized(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    n_ctx: int,
    check: Sizing,
    plan_text: str | None = None,
    is_host: Callable[[str], bool] | None = None,
    chosen: int = 0,
) -> Prediction:
    """``choose_plan``, sized by llama.cpp. When the planner's own pick would not fit as sized, it
    plans again with that much less room on the devices that were short. ``chosen``: the answers at
    once asked for (0: as many as memory allows)."""
    picked = choose_plan(profile, host, remotes, n_ctx, plan_text, is_host, chosen)
    sized = await size_at_once(check, profile, picked, n_ctx, host, remotes, chosen)
    room = caps(host, remotes)
    short: dict[PlanKey, int] = {}
    for _ in range(REPLANS):
        if plan_text or not sized.over or not sized.sized_by_llama:
            break
        estimate = predict(profile, host, remotes, sized.plan, n_ctx, at_once=sized.at_once)
        for key, extra in beyond_estimate(estimate, sized).items():
            if key in sized.over:
                short[key] = max(short.get(key, 0), extra)
        less_host, less_remotes = shrunk(host, remotes, short)
        try:
            again = auto_plan(profile, less_host, less_remotes, n_ctx, at_once=sized.at_once)
        except PlanError:
            break
        sized = await size(check, profile, again, n_ctx, room)
    return sized


class PlanRow(msgspec.Struct, frozen=True):
    device: PlanKey
    layers: tuple[int, int] | None  # first and last layer held; None for a device that holds none
    weights: int
    kv: int
    compute: int
    free: int  # what the device would have left of what it may use; negative when over
    ms_per_token: float


class PlanReport(msgspec.Struct, frozen=True):
    """A prediction as `hearth plan` prints it (and as the node's local API returns it)."""

    plan: str
    tokens_per_s: float
    devices: list[PlanRow]
    left_out: dict[PlanKey, str]
    # True when the compute buffers are llama.cpp's own sizing, False when they are the estimate.
    sized_by_llama: bool = False
    at_once: int = 1  # answers the plan gives together, each with a KV cache of its own


def plan_report(pred: Prediction, host: DeviceSpec, remotes: list[DeviceSpec]) -> PlanReport:
    room = caps(host, remotes)
    rows = [
        PlanRow(
            p.device,
            (p.start, p.end - 1) if p.end > p.start else None,
            p.memory.weights,
            p.memory.kv,
            p.memory.compute,
            room[p.device] - p.memory.total,
            p.seconds * 1000,
        )
        for p in pred.placements
    ]
    return PlanReport(
        str(pred.plan), pred.tokens_per_s, rows, dict(pred.left_out), pred.sized_by_llama, pred.at_once
    )


@dataclass(frozen=True)
class PlanChoice:
    """A plan chosen for a model at a context, with the devices it was chosen over."""

    profile: ModelProfile
    n_ctx: int
    prediction: Prediction
    host: DeviceSpec
    remotes: list[DeviceSpec]

    def report(self) -> PlanReport:
        return plan_report(self.prediction, self.host, self.remotes)
