"""How a model is spread over this machine's own accelerators when nobody planned it: as many layers
on its GPUs as their free memory holds, the rest on its CPU, the head on the first GPU that holds any.

The figures for speed only order the pools (an accelerator reads its memory several times faster than
a CPU reads RAM); the memory is what llama.cpp reports free on each device, less headroom for the
driver and the desktop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearth.core.plan import HOST, Plan
from hearth.core.planner import DeviceSpec, Pool, auto_plan
from hearth.core.profile import ModelProfile
from hearth.core.units import MIB

# Assumed until an accelerator's own probe measured it: a mid-range discrete GPU or Apple's M-series.
GPU_BYTES_PER_S = 200e9
CPU_BYTES_PER_S = 20e9
# Whatever RAM a local load needs: whether it fits is the memory check's question, not this one's.
UNBOUNDED = 1 << 62


def gpu_headroom(memory_total: int) -> int:
    """Accelerator memory left to the driver, the desktop and other programs."""
    return max(256 * MIB, memory_total // 20)


@dataclass(frozen=True)
class Accelerator:
    """One of this machine's GPUs as ggml reports it."""

    name: str
    memory_free: int
    memory_total: int
    bytes_per_s: float = GPU_BYTES_PER_S  # from its own probe when it had one
    layer_s: float = 0.0


def pools(accelerators: Sequence[Accelerator]) -> tuple[Pool, ...]:
    """The planner's view of accelerators: their free memory less headroom."""
    return tuple(
        Pool(a.name, max(0, a.memory_free - gpu_headroom(a.memory_total)), a.bytes_per_s, a.layer_s)
        for a in accelerators
    )


def local_plan(
    profile: ModelProfile, n_ctx: int, cache_type: str, accelerators: Sequence[Accelerator]
) -> Plan:
    """The plan for a load on this machine alone: its accelerators first, as far as they hold."""
    if not accelerators or not profile.format.can_pool:
        return Plan(profile.block_count, ())
    host = DeviceSpec(HOST, UNBOUNDED, CPU_BYTES_PER_S, accelerators=pools(accelerators))
    return auto_plan(profile, host, [], n_ctx, cache_type).plan
