"""A plan being edited by hand: devices in pipeline order, each holding a contiguous run of layers.

The window's layer strip edits one of these. A draft is a device order (the host first) and a layer
count per device, so every edit keeps each device's layers contiguous by construction: moving the
boundary between two devices trades layers between them, and moving a range onto another device moves
that many layers to it while every device keeps its place in the pipeline.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from hearth.core.plan import (
    CPU_PLACE,
    HOST,
    Assignment,
    Plan,
    PlanError,
    PlanKey,
    device_of,
    split_key,
    validate,
)


@dataclass
class PlanDraft:
    devices: list[PlanKey]
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.devices or self.devices[0] != HOST:
            raise PlanError("a draft starts with the host")
        if len(set(self.devices)) != len(self.devices):
            raise PlanError("a device appears twice in the draft")
        if not self.counts:
            self.counts = [0] * len(self.devices)
        if len(self.counts) != len(self.devices) or min(self.counts) < 0:
            raise PlanError("one non-negative layer count per device")

    @classmethod
    def from_plan(cls, plan: Plan, devices: Sequence[PlanKey]) -> PlanDraft:
        """A draft over ``devices`` (pipeline order from the plan first, then the rest)."""
        ordered = [HOST] + [a.device for a in plan.assignments if a.device != HOST]
        ordered += [d for d in devices if d not in ordered]
        # This device's GPUs follow its CPU, before every other device, as llama.cpp lists them; another
        # device's pools stay together, its GPUs before its CPU, as its worker lists them.
        first = {device: i for i, device in reversed(list(enumerate(device_of(d) for d in ordered)))}

        def place(key: PlanKey) -> tuple[int, int, int]:
            device, index = split_key(key)
            if device == HOST:
                return (0 if index is None else 1, 0, 0)  # its GPUs in the plan's order
            return (2, first[device], CPU_PLACE if index is None else index)

        ordered.sort(key=place)
        counts = dict.fromkeys(ordered, 0)
        for a in plan.assignments:
            counts[a.device] += a.count
        draft = cls(ordered, [counts[d] for d in ordered])
        if draft.n_layers != plan.n_layers:
            raise PlanError("the plan does not cover its layers")
        return draft

    @property
    def n_layers(self) -> int:
        return sum(self.counts)

    def start(self, index: int) -> int:
        return sum(self.counts[:index])

    def end(self, index: int) -> int:
        return sum(self.counts[: index + 1])

    def owner(self, layer: int) -> int:
        """Index of the device holding ``layer``."""
        if not 0 <= layer < self.n_layers:
            raise PlanError(f"there is no layer {layer}")
        for i in range(len(self.devices)):
            if layer < self.end(i):
                return i
        raise AssertionError("unreachable")

    def boundaries(self) -> list[tuple[int, int, int]]:
        """Visible boundaries as (left device, right device, position): between neighbouring ranges."""
        held = [i for i, c in enumerate(self.counts) if c > 0]
        return [(a, b, self.start(b)) for a, b in itertools.pairwise(held)]

    def move_boundary(self, left: int, right: int, position: int) -> None:
        """Move the boundary between devices ``left`` and ``right`` (nothing held between them)."""
        if not 0 <= left < right < len(self.devices) or any(self.counts[left + 1 : right]):
            raise PlanError("those two devices' ranges do not meet")
        lo, hi = self.start(left), self.end(right)
        position = max(lo, min(hi, position))
        self.counts[left] = position - lo
        self.counts[right] = hi - position

    def move_layers(self, start: int, end: int, target: int) -> None:
        """Give layers ``[start, end)`` to device ``target``; the others keep their pipeline places."""
        if not 0 <= start < end <= self.n_layers:
            raise PlanError(f"layers {start}-{end - 1} are not in the model")
        if not 0 <= target < len(self.devices):
            raise PlanError("no such device")
        overlaps = [
            max(0, min(end, self.end(i)) - max(start, self.start(i))) for i in range(len(self.devices))
        ]
        for i, overlap in enumerate(overlaps):
            if i != target:
                self.counts[i] -= overlap
                self.counts[target] += overlap

    def plan(self) -> Plan:
        assignments, start = [], 0
        for device, count in zip(self.devices, self.counts, strict=True):
            if count or device == HOST:
                assignments.append(Assignment(device, start, start + count))
            start += count
        return validate(Plan(self.n_layers, tuple(assignments)))
