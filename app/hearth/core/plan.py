"""Layer plans: which device holds which contiguous range of a model's layers, and how llama.cpp is
told so exactly.

llama.cpp keeps the first ``L + 1 - n_gpu_layers`` layers on the host CPU and spreads the rest over
its device list by cumulative ``tensor_split`` shares, the output layer counting as layer ``L`` on the
last device. Integer layer counts as shares reproduce a plan exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NewType

from hearth.core.device_id import DeviceId
from hearth.core.errors import HearthError

# How a plan names a device: HOST for this one, else the device's ID (``core.device_id.DeviceId``), or
# in a plan a person wrote, the name or ID prefix they gave it, until the service resolves it to an ID.
PlanKey = NewType("PlanKey", str)
HOST = PlanKey("host")


def key_of(device: DeviceId) -> PlanKey:
    """The key a plan gives another device: its ID."""
    return PlanKey(device)


# A device's accelerators are pools of their own in a plan: ``host/gpu0`` is this device's first GPU,
# ``ID/gpu1`` another device's second; the bare key is the device's CPU and its RAM.
POOL_MARK = "/gpu"


def pool_key(device: PlanKey, index: int) -> PlanKey:
    """The key of ``device``'s accelerator number ``index`` (in the order llama.cpp lists them)."""
    return PlanKey(f"{device}{POOL_MARK}{index}")


def split_key(key: PlanKey) -> tuple[PlanKey, int | None]:
    """``(device, accelerator index)`` of a plan key; the index is None for a device's CPU."""
    device, mark, index = key.rpartition(POOL_MARK)
    if mark and device and index.isascii() and index.isdigit():
        return PlanKey(device), int(index)
    return key, None


def device_of(key: PlanKey) -> PlanKey:
    """The device a plan key's layers are on, whichever of its pools holds them."""
    return split_key(key)[0]


class PlanError(HearthError, ValueError):
    """A plan that cannot be run; the message names the problem."""


@dataclass(frozen=True)
class Assignment:
    device: PlanKey
    start: int  # first layer
    end: int  # one past the last layer

    @property
    def count(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        last = self.end - 1
        return f"{self.device}:{self.start}" if last == self.start else f"{self.device}:{self.start}-{last}"


@dataclass(frozen=True)
class Plan:
    n_layers: int
    assignments: tuple[Assignment, ...]

    @property
    def host_layers(self) -> int:
        """Layers on this device's CPU (its accelerators' layers are ``offloaded``)."""
        return sum(a.count for a in self.assignments if a.device == HOST)

    @property
    def remote(self) -> tuple[Assignment, ...]:
        """The ranges on other devices, each of their pools its own range."""
        return tuple(a for a in self.assignments if device_of(a.device) != HOST and a.count > 0)

    @property
    def remote_devices(self) -> tuple[PlanKey, ...]:
        """The other devices holding layers, in pipeline order, each once however many of its pools
        hold them: one RPC server each."""
        return tuple(dict.fromkeys(device_of(a.device) for a in self.remote))

    def rpc_targets(self) -> list[tuple[int, int]]:
        """For each range on another device (``remote``, in order): which RPC server takes it (its
        index in ``remote_devices``) and which of that server's devices, an accelerator's index or -1
        for the server's CPU, which a worker lists after its accelerators."""
        servers = {device: i for i, device in enumerate(self.remote_devices)}
        out = []
        for a in self.remote:
            device, index = split_key(a.device)
            out.append((servers[device], -1 if index is None else index))
        return out

    @property
    def host_accelerators(self) -> tuple[Assignment, ...]:
        """The ranges on this device's own accelerators, in pipeline order."""
        return tuple(a for a in self.assignments if a.device != HOST and device_of(a.device) == HOST)

    @property
    def offloaded(self) -> tuple[Assignment, ...]:
        """Every range llama.cpp places on a device of its list (not the host CPU), in pipeline order:
        one entry of ``tensor_split`` each."""
        return tuple(a for a in self.assignments if a.device != HOST and a.count > 0)

    def llama_params(self) -> tuple[int, list[float] | None]:
        """``(n_gpu_layers, tensor_split)`` that make llama.cpp place layers exactly as planned."""
        remote = self.offloaded
        if not remote:
            return 0, None
        split = [float(a.count) for a in remote]
        split[-1] += 1  # the output layer rides with the last device's layers
        return self.n_layers + 1 - self.host_layers, split

    def __str__(self) -> str:
        return ",".join(str(a) for a in self.assignments if a.count)


_PART = re.compile(r"^\s*(?P<device>[^:,]+?)\s*:\s*(?P<start>\d+)\s*(?:-\s*(?P<end>\d+))?\s*$")


def parse_plan(text: str, n_layers: int, is_host: Callable[[str], bool] | None = None) -> Plan:
    """Parse ``"host:0-9,DEVICE:10-19,OTHER:20-31"`` (inclusive ranges) and validate it. A device for
    which ``is_host`` says yes (this device's own name or ID) counts as ``host``."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise PlanError("the plan is empty")
    assignments = []
    for part in parts:
        m = _PART.match(part)
        if not m:
            raise PlanError(f"'{part.strip()}' is not DEVICE:FIRST-LAST")
        start = int(m.group("start"))
        last = int(m.group("end")) if m.group("end") is not None else start
        if last < start:
            raise PlanError(f"'{part.strip()}': the range runs backwards")
        device = PlanKey(m.group("device"))
        if is_host is not None and is_host(device):
            device = HOST
        assignments.append(Assignment(device, start, last + 1))
    return validate(Plan(n_layers, tuple(assignments)))


CPU_PLACE = 1 << 30  # where a device's CPU comes among its pools: after all of its GPUs


def validate(plan: Plan) -> Plan:
    """Contiguous, in order, every layer exactly once, each device once, the host first, then its GPUs,
    then the other devices, each of those with its GPUs' ranges together, in their order, before its
    CPU's (the order its worker lists them in)."""
    expected = 0
    seen: set[PlanKey] = set()
    elsewhere = False  # a range on another device came already
    last: tuple[PlanKey, int] | None = None  # the other device of the range before, and its pool's place
    done: set[PlanKey] = set()  # other devices whose ranges have all come
    for i, a in enumerate(plan.assignments):
        if a.start != expected:
            what = (
                "overlaps the one before"
                if a.start < expected
                else f"leaves layers {expected}-{a.start - 1} out"
            )
            raise PlanError(f"{a} {what}")
        if a.device in seen:
            raise PlanError(f"{a.device} appears twice; each device holds one contiguous range")
        if a.device == HOST and i != 0 and a.count:
            raise PlanError(
                "the host's layers must come first (llama.cpp keeps the first layers on the host)"
            )
        if a.count and a.device != HOST and device_of(a.device) == HOST and elsewhere:
            raise PlanError(
                f"{a} comes after another device's layers: this device's GPUs take the layers right "
                "after its CPU's (llama.cpp lists them before other devices)"
            )
        device, index = split_key(a.device)
        if a.count and device != HOST:
            place = CPU_PLACE if index is None else index
            if last is not None and last[0] == device:
                if place <= last[1]:
                    raise PlanError(
                        f"{a} comes after {device}'s "
                        f"{'CPU' if last[1] == CPU_PLACE else f'GPU {last[1]}'}: a device's GPUs take "
                        "their layers in their order, then its CPU"
                    )
            else:
                if device in done:
                    raise PlanError(f"{device}'s layers are split by another device's; keep them together")
                if last is not None:
                    done.add(last[0])
            last = (device, place)
        elsewhere = elsewhere or (a.count > 0 and device != HOST)
        seen.add(a.device)
        expected = a.end
    if expected != plan.n_layers:
        raise PlanError(f"the plan covers layers 0-{expected - 1}, the model has 0-{plan.n_layers - 1}")
    return plan


def even_plan(n_layers: int, devices: Sequence[PlanKey], weights: list[float] | None = None) -> Plan:
    """Split ``n_layers`` over ``devices`` in order, in proportion to ``weights`` (equal by default)."""
    if not devices:
        raise PlanError("no devices to plan over")
    w = weights or [1.0] * len(devices)
    total = sum(w)
    if total <= 0:
        raise PlanError("the devices offer no memory")
    bounds = [round(n_layers * sum(w[: i + 1]) / total) for i in range(len(devices))]
    assignments, start = [], 0
    for device, end in zip(devices, bounds, strict=True):
        assignments.append(Assignment(device, start, end))
        start = end
    return validate(Plan(n_layers, tuple(a for a in assignments if a.count or a.device == HOST)))
