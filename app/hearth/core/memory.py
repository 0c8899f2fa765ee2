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


def compute_buffer(
    profile: ModelProfile, n_ctx: int, layers: int, n_ubatch: int = 512, host: bool = False
) -> int:
    """llama.cpp's compute buffer on a device holding ``layers`` layers (flash attention off).

    The buffer is the peak of one micro-batch's graph, reused layer after layer, so it does not grow
    with the layer count. The peak is either the attention step (scores and mask over the whole context,
    per head, plus the projections) or the feed-forward step. Fitted to the sizes llama.cpp reports for
    llama models of several shapes and contexts; the host also holds the micro-batch's embeddings.
    """
    tokens = min(n_ubatch, n_ctx)
    n_embd = profile.embedding_length
    if layers <= 0:
        # A host that holds no layer still prepares the inputs (embeddings, the attention mask) for the
        # devices; this rule is an upper bound (measured 75-100 % of it), not a fit.
        return tokens * (F32 * n_ctx + 16 * n_embd) if host else 0
    ff = profile.feed_forward_length or 4 * n_embd
    n_embd_kv = profile.head_count_kv * profile.head_dim_k
    attention = tokens * (n_ctx * (F32 * profile.head_count + F32) + 16 * n_embd + 8 * n_embd_kv)
    feed_forward = tokens * (16 * ff + 4 * n_embd_kv)
    return max(attention, feed_forward) + (tokens * n_embd * F32 if host else 0)


def device_memory(
    profile: ModelProfile, start: int, end: int, n_ctx: int, cache_type: str = "f16", host: bool = False
) -> DeviceMemory:
    """Memory for layers ``[start, end)``; the host also holds the token embedding and output head."""
    layers = end - start
    weights = sum(profile.layer_bytes[start:end])
    compute = compute_buffer(profile, n_ctx, layers, host=host)
    if host:
        weights += profile.token_embd_bytes + profile.output_bytes + profile.other_bytes
        compute += profile.vocab_size * F32  # the logits of the last token
    return DeviceMemory(weights, profile.kv_bytes(n_ctx, layers, cache_type), compute)
