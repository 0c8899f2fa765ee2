"""What a device will hold for its part of a plan: weights, KV cache, compute buffers."""

from __future__ import annotations

from dataclasses import dataclass

from hearth.core.profile import ModelProfile

F32 = 4


@dataclass(frozen=True)
class DeviceMemory:
    weights: int
    kv: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv + self.compute


def compute_buffer(profile: ModelProfile, n_ctx: int, layers: int, n_ubatch: int = 512) -> int:
    """An upper estimate of llama.cpp's compute buffer on a device holding ``layers`` layers.

    The largest intermediate results of one micro-batch: hidden states, the feed-forward activations and
    the attention scores over the whole context.
    """
    if layers <= 0:
        return 0
    ff = profile.feed_forward_length or 4 * profile.embedding_length
    tokens = min(n_ubatch, n_ctx)
    per_token = 4 * profile.embedding_length + 3 * ff + profile.head_count * n_ctx
    return tokens * per_token * F32


def device_memory(
    profile: ModelProfile, start: int, end: int, n_ctx: int, cache_type: str = "f16", host: bool = False
) -> DeviceMemory:
    """Memory for layers ``[start, end)``; the host also holds the token embedding and output head."""
    layers = end - start
    weights = sum(profile.layer_bytes[start:end])
    if host:
        weights += profile.token_embd_bytes + profile.output_bytes + profile.other_bytes
    return DeviceMemory(
        weights, profile.kv_bytes(n_ctx, layers, cache_type), compute_buffer(profile, n_ctx, layers)
    )
