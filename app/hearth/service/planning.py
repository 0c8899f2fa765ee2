"""What the planner may use on each device, from the node's live view of the devices.

This device is the host: it may use its free memory less a headroom the system keeps. A paired device
takes part when it is connected and donating: it may use what it donates, and never more than its free
memory less the same headroom. Speed comes from each device's probe when it has reported one. A remote
device costs each token its link's round trip plus llama.cpp's own RPC step, as this device measured it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import msgspec

from hearth.core.plan import HOST, parse_plan
from hearth.core.planner import DeviceSpec, Prediction, auto_plan, evaluate
from hearth.core.profile import ModelProfile
from hearth.core.units import MIB
from hearth.service.device_view import DeviceView

# Decode speed assumed for a device that has not reported a probe: a typical laptop's memory bandwidth.
DEFAULT_BYTES_PER_S = 20e9
# RPC step assumed until this device has measured its own: about what one RPC server costs a token on
# loopback on a fast machine.
DEFAULT_RPC_STEP_S = 0.8e-3


def headroom(memory_total: int) -> int:
    """Memory left to the operating system and other programs."""
    return max(512 * MIB, memory_total // 10)


@dataclass(frozen=True)
class PlanningDevice:
    key: str  # HOST for this device, else the device ID (what plans name)
    name: str
    memory_total: int
    memory_free: int
    usable: int
    spec: DeviceSpec
    accelerator: str = ""


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
            key = row.device_id
        else:
            continue
        free = min(row.memory_total, (row.memory_free or 0) + held.get(key, 0))
        spare = max(0, free - headroom(row.memory_total))
        speed = row.bytes_per_s or DEFAULT_BYTES_PER_S
        if key == HOST:
            usable, hop = spare, 0.0
        else:
            usable = min(donated, spare)
            hop = (row.latency_ms or 0.0) / 1000 + step
        spec = DeviceSpec(key, usable, speed, hop)
        out.append(PlanningDevice(key, row.name, row.memory_total, free, usable, spec, row.accelerator))
    out.sort(key=lambda d: d.key != HOST)
    return out


def this_device_alone() -> DeviceSpec:
    """This device as the planner sees it when no node runs to say more (free memory now, the
    assumed speed): what fit badges use without a node."""
    import psutil

    memory = psutil.virtual_memory()
    return DeviceSpec(HOST, max(0, memory.available - headroom(memory.total)), DEFAULT_BYTES_PER_S)


def keyed_specs(devices: list[PlanningDevice]) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The host and the others as the planner takes them, named by key (``host``, device IDs)."""
    return devices[0].spec, [d.spec for d in devices[1:]]


def named_specs(devices: list[PlanningDevice]) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The host and the others as the planner takes them, named as plans name them: by device
    name where it is unique, by ID where two devices share one."""
    names = [d.name for d in devices]
    specs = [
        dataclasses.replace(d.spec, name=d.name) if names.count(d.name) == 1 and d.key != HOST else d.spec
        for d in devices
    ]
    return specs[0], specs[1:]


def choose_plan(
    profile: ModelProfile,
    host: DeviceSpec,
    remotes: list[DeviceSpec],
    n_ctx: int,
    plan_text: str | None = None,
    is_host: Callable[[str], bool] | None = None,
) -> Prediction:
    """The plan a user named, checked, or else the planner's best: what `hearth plan` shows and
    what a pooled chat without ``--plan`` loads."""
    if plan_text:
        return evaluate(profile, host, remotes, parse_plan(plan_text, profile.block_count, is_host), n_ctx)
    return auto_plan(profile, host, remotes, n_ctx)


class PlanRow(msgspec.Struct, frozen=True):
    device: str
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
    left_out: dict[str, str]


def plan_report(pred: Prediction, host: DeviceSpec, remotes: list[DeviceSpec]) -> PlanReport:
    caps = {HOST: host.memory_bytes, **{d.name: d.memory_bytes for d in remotes}}
    rows = [
        PlanRow(
            p.device,
            (p.start, p.end - 1) if p.end > p.start else None,
            p.memory.weights,
            p.memory.kv,
            p.memory.compute,
            caps[p.device] - p.memory.total,
            p.seconds * 1000,
        )
        for p in pred.placements
    ]
    return PlanReport(str(pred.plan), pred.tokens_per_s, rows, dict(pred.left_out))


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
