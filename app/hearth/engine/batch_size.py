"""How many answers one loaded model can decode at once: as many as the KV cache may hold.

Each answer of a batch holds a context of its own (``n_ctx`` tokens), so the KV cache of a model
loaded for ``n`` answers at once is ``n`` times that of one. The planner and the service ask here
how many fit in the memory the cache may take, and say it as people read it ("4 answers at once at
4,096 tokens each"). Nothing here touches llama.cpp.
"""

from __future__ import annotations

from hearth.core.profile import ModelProfile
from hearth.engine.messages import MAX_PARALLEL

# Answers at once when memory allows: past four, a household's streams gain little more per pass
# over the weights on the machines Hearth runs on, and each costs a context's worth of cache.
DEFAULT_AT_ONCE = 4


def kv_bytes_at_once(profile: ModelProfile, n_ctx: int, at_once: int, cache_type: str = "f16") -> int:
    """The KV cache a load for ``at_once`` answers of ``n_ctx`` tokens each holds, in bytes."""
    return profile.kv_bytes(n_ctx, cache_type=cache_type) * max(1, at_once)


def answers_at_once(
    profile: ModelProfile,
    n_ctx: int,
    kv_budget: int,
    cache_type: str = "f16",
    most: int = DEFAULT_AT_ONCE,
) -> int:
    """How many answers of ``n_ctx`` tokens each fit in ``kv_budget`` bytes of KV cache, from 1 (one
    at a time, even when not even one fits: the load itself then says what is short) to ``most``."""
    if not profile.format.can_pool:  # llama.cpp's runtime batches; MLX's answers one at a time
        return 1
    most = max(1, min(most, MAX_PARALLEL))
    per_answer = profile.kv_bytes(n_ctx, cache_type=cache_type)
    if per_answer <= 0:
        return most
    return max(1, min(most, kv_budget // per_answer))


def describe(at_once: int, n_ctx: int) -> str:
    """``at_once`` answers of ``n_ctx`` tokens as the Planner says it."""
    answers = "1 answer at a time" if at_once <= 1 else f"{at_once} answers at once"
    return f"{answers} at {n_ctx:,} tokens each"
