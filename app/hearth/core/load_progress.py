"""Per-device load progress from llama.cpp's single progress fraction.

llama.cpp reports one fraction over all tensor bytes and loads tensors in file order: the token
embedding, then the layers in order, then the output head. So the bytes loaded so far tell how far
each device's share has come.
"""

from __future__ import annotations

from hearth.core.plan import HOST, Plan, PlanKey
from hearth.core.profile import ModelProfile


def _segments(profile: ModelProfile, plan: Plan) -> list[tuple[PlanKey, int]]:
    owner = {layer: a.device for a in plan.assignments for layer in range(a.start, a.end)}
    segments = [(HOST, profile.token_embd_bytes)]
    segments += [(owner[i], size) for i, size in enumerate(profile.layer_bytes)]
    segments.append((HOST, profile.output_bytes + profile.other_bytes))
    return segments


def device_progress(profile: ModelProfile, plan: Plan, fraction: float) -> dict[str, float]:
    """Fraction loaded per device of ``plan`` (each from 0 to 1) when llama.cpp reports ``fraction``."""
    segments = _segments(profile, plan)
    total = sum(size for _, size in segments) or 1
    loaded = max(0.0, min(1.0, fraction)) * total
    done: dict[str, float] = {}
    size_of: dict[str, int] = {}
    position = 0
    for device, size in segments:
        done[device] = done.get(device, 0.0) + max(0.0, min(size, loaded - position))
        size_of[device] = size_of.get(device, 0) + size
        position += size
    return {d: (done[d] / size_of[d] if size_of[d] else 1.0) for d in done}
