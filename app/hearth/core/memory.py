"""What a device will hold for its part of a plan: weights, KV cache, compute buffers.

The compute buffer is where llama.cpp's graph allocator places the activations of one micro-batch
(``n_ubatch`` tokens, the worst case it reserves for). Tensors are freed after their last use and their
space reused, so the buffer is the largest set of activations alive at one time, not their sum. This
module follows the graph llama.cpp builds for a layer and names which tensors are alive together:

- **Inputs** that stay until their last use: one attention mask per kind of attention a device runs
  (full context, sliding window), ``n_kv × n_tokens`` in f32, or f16 with flash attention; on the host
  also the token embeddings of the micro-batch.
- **Attention**: the layer input and its norm, Q and the attention output; without flash attention
  also K and V as computed and the scores of every head over the whole cache (``n_kv × n_tokens ×
  n_head`` f32), which is what grows with the context.
- **Feed-forward**: gate, up and their product (three ``n_ff`` rows per token) beside the residual; in
  a mixture of experts that for each expert a token uses, and the router's scores. The masks stay
  alive through it, except after a device's last attention of that kind.
- **Output head** (the host; Hearth keeps the head there): logits for every token of the micro-batch,
  ``n_vocab × n_tokens`` f32, because llama.cpp reserves for a prompt whose every token asks for
  logits. With a 262,144-token vocabulary that alone is 512 MiB.

The KV cache has ``n_ctx`` cells (padded to 256) in every layer, sliding-window layers included:
llama.cpp's default, kept by Hearth, is a full-size cache for those layers too. A load that decodes
several answers at once gives each its own ``n_ctx`` cells, so its cache is that many times as large;
the compute buffer is not: each answer's attention reads its own cells, and llama.cpp reserves for
one micro-batch whatever the answers it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth.core.formats import ModelFormat
from hearth.core.profile import ModelProfile
from hearth.core.repack import NO_REPACK, RepackRules

F32 = 4
F16 = 2
N_UBATCH = 512  # llama.cpp's micro-batch, which Hearth does not change
KV_PAD = 256  # llama.cpp rounds the context up to a multiple of this
FLOAT_CACHES = ("f32", "f16", "bf16")


@dataclass(frozen=True)
class DeviceMemory:
    weights: int
    kv: int
    compute: int
    # Of the weights, the copies the CPU backend made in its repacked layout (core.repack): memory of
    # its own, where mapped weights are file pages the system can drop.
    repacked: int = 0

    @property
    def total(self) -> int:
        return self.weights + self.kv + self.compute


def uses_flash_attention(cache_type: str, flash_attn: bool | None = None) -> bool:
    """Hearth's rule: flash attention when asked, else exactly when the KV cache is quantized (llama.cpp
    needs it for a quantized V cache)."""
    return flash_attn if flash_attn is not None else cache_type not in FLOAT_CACHES


def context_cells(n_ctx: int) -> int:
    """The KV cells llama.cpp allocates for a requested context."""
    return -(-max(n_ctx, 1) // KV_PAD) * KV_PAD


# Extra width-of-the-model rows per micro-batch token where a graph keeps more than the residual stream:
# where the embeddings enter (Gemma scales them into a second tensor) and in a model's last layer (only
# the rows that produce logits are kept, a copy). Unknown architectures get the larger figures.
_FIRST_ROWS = {"llama": 1}
_LAST_ROWS = {"llama": 1}


def compute_buffer(
    profile: ModelProfile,
    start: int,
    end: int,
    n_ctx: int,
    *,
    cache_type: str = "f16",
    flash_attn: bool | None = None,
    host: bool = False,
    n_ubatch: int = N_UBATCH,
) -> int:
    """llama.cpp's compute buffer on a device holding layers ``[start, end)``; the host also runs the
    embedding lookup and the output head."""
    n_kv = context_cells(n_ctx)
    tokens = min(n_ubatch, n_kv)
    fa = uses_flash_attention(cache_type, flash_attn)
    n_embd = profile.embedding_length
    row = tokens * n_embd * F32
    mask = n_kv * tokens * (F16 if fa else F32)
    last = profile.block_count

    peak = 0
    if end > start:
        q_and_out = profile.head_count * (profile.head_dim_k + profile.head_dim_v)
        attention = tokens * F32 * (2 * n_embd + q_and_out)
        if not fa:
            k_and_v = profile.head_count_kv * (profile.head_dim_k + profile.head_dim_v)
            attention += tokens * F32 * (k_and_v + n_kv * profile.head_count)
        ff = profile.feed_forward_length or 4 * n_embd
        if profile.expert_count:
            # Each token through its experts: gate, up and their product for each expert it uses (the
            # experts' outputs come after gate and up are freed), and the router's scores.
            per_token = profile.expert_used_count * 3 * ff + 2 * profile.expert_count + 2 * n_embd
        else:
            per_token = 3 * ff + 2 * n_embd
        feed_forward = tokens * F32 * per_token
        # The host builds every mask for the whole graph; a worker holds copies of the kinds its layers
        # use, each freed after its last use.
        kinds_now = profile.attention_kinds(0, last) if host else profile.attention_kinds(start, end)
        kinds_after = profile.attention_kinds(0, last) if host else profile.attention_kinds(start + 1, end)
        peaks = [mask * kinds_now + attention, mask * kinds_after + feed_forward]
        if end == last and row > mask:
            # The last attention's mask leaves a hole too small for the rows kept for the logits.
            peaks.append(mask + feed_forward + row * _LAST_ROWS.get(profile.architecture, 2))
        # Positions and the rows each token writes into the KV cache, per kind of attention.
        small_inputs = tokens * (8 + 16 * kinds_now)
        peak = max(peaks) + small_inputs
        if host or start == 0:
            peak += row * _FIRST_ROWS.get(profile.architecture, 2)
    elif host:
        # A host without layers still builds every mask and the embeddings for the devices.
        peak = mask * profile.attention_kinds(0, last) + 2 * row
    if host:
        logits = tokens * profile.vocab_size * F32
        peak = max(peak, logits + 2 * row + (row if end == last else 0))
    return peak


# mlx-lm grows its KV cache in steps of this many tokens, and prefills the prompt in chunks this long.
MLX_KV_STEP = 256
MLX_PREFILL = 2048


def mlx_memory(profile: ModelProfile, n_ctx: int) -> DeviceMemory:
    """An MLX model on one device: every weight; a float16 KV cache for the whole context, in mlx-lm's
    steps; and the largest transient, a prefill chunk's logits and activations in float16."""
    cells = -(-n_ctx // MLX_KV_STEP) * MLX_KV_STEP
    kv = 2 * profile.block_count * profile.head_count_kv * profile.head_dim_k * cells * 2
    chunk = min(n_ctx, MLX_PREFILL)
    compute = (
        chunk * (profile.vocab_size + 4 * profile.embedding_length + (profile.feed_forward_length or 0)) * 2
    )
    return DeviceMemory(profile.tensor_data_bytes, kv, compute)


def device_memory(
    profile: ModelProfile,
    start: int,
    end: int,
    n_ctx: int,
    cache_type: str = "f16",
    host: bool = False,
    flash_attn: bool | None = None,
    repack: RepackRules = NO_REPACK,
    mmap: bool = True,
    at_once: int = 1,
) -> DeviceMemory:
    """Memory for layers ``[start, end)``; the host also holds the token embedding and output head and
    the logits of the last token. ``repack``: what the host's CPU backend repacks; with the file mapped
    (``mmap``) those copies come on top of the mapping (``core.repack``). ``at_once``: the answers the
    load decodes together, each with a KV cache of ``n_ctx`` cells (MLX answers one at a time)."""
    if profile.format is ModelFormat.MLX:
        return mlx_memory(profile, n_ctx)
    weights = sum(profile.layer_bytes[start:end])
    repacked = 0
    local = start == 0 and end == profile.block_count
    if host and repack and (repack.local_loads or not local):
        # The host computes the output head in every plan Hearth makes. Mapped, every repacked matrix
        # is a copy beside the file; read into memory, only a tied head's is (core.repack).
        if mmap:
            repacked = profile.repacked_bytes(repack, start, end, output=True)
        elif profile.tied_embeddings:
            repacked = profile.repacked_bytes(repack, 0, 0, output=True)
        weights += repacked
    compute = compute_buffer(
        profile, start, end, n_ctx, cache_type=cache_type, flash_attn=flash_attn, host=host
    )
    if host:
        weights += profile.token_embd_bytes + profile.output_bytes + profile.other_bytes
        compute += profile.vocab_size * F32
    kv = profile.kv_bytes(context_cells(n_ctx), end - start, cache_type) * max(1, at_once)
    return DeviceMemory(weights, kv, compute, repacked)
