"""Random-weight llama GGUF models for tests, benchmarks and trying Hearth without a download.

The weights are noise, so the text is nonsense, but llama.cpp loads and runs these files exactly like
real ones: same architecture, tensor layout, tokenizer kind (SentencePiece with byte fallback) and
chat template. Files are deterministic for a given spec and seed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import string
from dataclasses import dataclass, replace
from pathlib import Path

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class SyntheticSpec:
    name: str
    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    n_vocab: int
    n_ctx: int = 2048
    matrix_type: QT = QT.F16
    embd_type: QT = QT.F16
    output_type: QT | None = QT.F16  # None: tied embeddings, no output.weight
    chat_template: bool = True
    # "llama", or "gemma3": sliding-window attention on five layers of every six, Q/K norms and norms
    # after attention and feed-forward, like the real family.
    architecture: str = "llama"
    head_dim: int | None = None  # K and V size per head; n_embd // n_head when None
    sliding_window: int = 0  # gemma3 only; 0 means every layer attends to the whole context
    # Mixture of experts (llama only, as Mixtral): experts per layer of n_ff each, and how many a token uses.
    n_expert: int = 0
    n_expert_used: int = 0


TINY = SyntheticSpec("tiny", n_layer=8, n_embd=64, n_ff=128, n_head=4, n_head_kv=2, n_vocab=384, n_ctx=512)
# Shapes of a small real model (grouped-query attention, 32k vocabulary); Q8_0 keeps it near 250 MB.
MEDIUM = SyntheticSpec(
    "medium",
    n_layer=12,
    n_embd=1024,
    n_ff=2816,
    n_head=16,
    n_head_kv=4,
    n_vocab=32000,
    n_ctx=4096,
    matrix_type=QT.Q8_0,
    embd_type=QT.Q8_0,
    output_type=QT.F16,
)
# Wide enough that greedy decoding (seed 0) runs to the length limit: long answers for the window's
# Stop button, screenshots and the responsiveness benchmark.
TALKATIVE = replace(TINY, name="talkative", n_embd=128, n_ff=256, n_ctx=8192)
# What makes memory hard to predict in a Gemma 3 class model, at a size tests can afford: a 262,144-token
# vocabulary, sliding-window attention, a tied output head and heads wider than n_embd / n_head.
WIDE_VOCAB = SyntheticSpec(
    "wide-vocab",
    n_layer=6,
    n_embd=64,
    n_ff=256,
    n_head=4,
    n_head_kv=1,
    n_vocab=262144,
    n_ctx=32768,
    head_dim=32,
    output_type=None,
    architecture="gemma3",
    sliding_window=512,
)
# Rows wide enough for the K-quants' 256-value blocks, every matrix's row count a multiple of 8: what the
# tests of quantized and repacked weights write in Q4_0, Q4_K (with a Q6_K head, as Q4_K_M), Q8_0, IQ4_NL.
QUANTIZED = SyntheticSpec(
    "quantized", n_layer=6, n_embd=256, n_ff=768, n_head=4, n_head_kv=2, n_vocab=512, n_ctx=1024
)
# What `hearth synth` offers (the wide-vocabulary model is for memory tests: 1 GiB of logits buffers).
SPECS = {s.name: s for s in (TINY, MEDIUM, TALKATIVE)}


def _vocab(n_vocab: int) -> tuple[list[str], list[float], list[int]]:
    control = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [gguf.TokenType.UNKNOWN] + [gguf.TokenType.CONTROL] * 4
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    pieces: list[str] = []
    letters = string.ascii_lowercase
    candidates = itertools.chain(
        ["▁"],
        (f"▁{c}" for c in letters),
        (c for c in string.ascii_letters + string.digits + string.punctuation),
        ("▁" + "".join(p) for n in (2, 3, 4) for p in itertools.product(letters, repeat=n)),
    )
    need = n_vocab - len(control) - len(byte_tokens)
    if need < 0:
        raise ValueError(f"vocabulary of {n_vocab} is smaller than the {len(control) + 256} fixed tokens")
    pieces = list(itertools.islice(candidates, need))
    if len(pieces) < need:
        raise ValueError(f"cannot make {n_vocab} distinct tokens")
    tokens = control + byte_tokens + pieces
    types += [gguf.TokenType.NORMAL] * len(pieces)
    scores = [0.0] * (len(control) + 256) + [-float(i) for i in range(len(pieces))]
    return tokens, scores, [int(t) for t in types]


# Types the gguf package cannot quantize to: byte offsets of each block's float16 scales (and E8M0
# exponent for MXFP4), which are set to small finite values; the rest of each block is random.
_SCALES = {
    QT.Q2_K: (80, 82),
    QT.Q3_K: (108,),
    QT.Q4_K: (0, 2),
    QT.Q5_K: (0, 2),
    QT.Q6_K: (208,),
    QT.IQ4_NL: (0,),
    QT.IQ4_XS: (0,),
}


def _random_blocks(data: np.ndarray, qtype: QT) -> np.ndarray:
    """Blocks of ``qtype`` for a tensor shaped like ``data``: random quants under scales that keep
    activations in range. Random weights need no real quantizer, only valid blocks."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    cols = data.shape[-1]
    if cols % block:
        raise ValueError(f"{qtype.name} needs rows of a multiple of {block} values, not {cols}")
    n_blocks = data.size // block
    rng = np.random.default_rng(int(abs(float(data.flat[0])) * 1e6) + data.size)
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    if qtype == QT.MXFP4:
        raw[:, 0] = 120  # 2^-7: a scale of E8M0 form
    else:
        scale = np.frombuffer(np.float16(1.0 / (8 * np.sqrt(cols))).tobytes(), dtype=np.uint8)
        for offset in _SCALES[qtype]:
            raw[:, offset : offset + 2] = scale
    return raw.reshape(*data.shape[:-1], cols // block * size)


def _add(writer: gguf.GGUFWriter, name: str, data: np.ndarray, qtype: QT) -> None:
    if qtype in (QT.F32, QT.F16):
        writer.add_tensor(name, gguf.quants.quantize(data, qtype))
    elif qtype in _SCALES or qtype == QT.MXFP4:
        writer.add_tensor(name, _random_blocks(data, qtype), raw_dtype=qtype)
    else:
        writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)


def write_model(
    path: str | os.PathLike[str], spec: SyntheticSpec = TINY, seed: int = 0, parts: int = 1
) -> Path:
    """Write a random-weight llama GGUF for ``spec``; returns the path. ``parts`` > 1: split over that
    many files as llama.cpp's gguf-split names them (``stem-00001-of-0000N.gguf``, the path returned)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if spec.architecture not in ("llama", "gemma3"):
        raise ValueError(f"synthetic models are llama or gemma3, not '{spec.architecture}'")
    gemma = spec.architecture == "gemma3"
    if spec.n_expert and (gemma or not 0 < spec.n_expert_used <= spec.n_expert):
        raise ValueError("a synthetic mixture of experts is a llama with 0 < n_expert_used <= n_expert")
    head_dim = spec.head_dim or spec.n_embd // spec.n_head

    def w(rows: int, cols: int) -> np.ndarray:
        # 1/sqrt(fan_in) keeps activations in range through every layer, so logits stay finite.
        weights: np.ndarray = rng.standard_normal((rows, cols), dtype=np.float32) / np.sqrt(cols)
        return weights.astype(np.float32)

    tmp = out.with_name(out.name + ".partial")
    per_part = 0
    if parts > 1:
        per_layer = 13 if gemma else 9 + bool(spec.n_expert)  # experts add the router
        tensors = 2 + spec.n_layer * per_layer + (spec.output_type is not None)
        per_part = -(-tensors // parts)
    writer = gguf.GGUFWriter(
        str(tmp) if parts == 1 else str(out), spec.architecture, split_max_tensors=per_part
    )
    writer.add_name(f"hearth-synthetic-{spec.name}")
    writer.add_context_length(spec.n_ctx)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    if gemma and spec.sliding_window:
        writer.add_sliding_window(spec.sliding_window)
    if spec.n_expert:
        writer.add_expert_count(spec.n_expert)
        writer.add_expert_used_count(spec.n_expert_used)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(spec.n_vocab)
    tokens, scores, types = _vocab(spec.n_vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    if spec.chat_template:
        writer.add_chat_template(CHATML_TEMPLATE)

    ones = np.ones(spec.n_embd, dtype=np.float32)
    _add(writer, "token_embd.weight", w(spec.n_vocab, spec.n_embd), spec.embd_type)
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        _add(writer, p + "attn_norm.weight", ones, QT.F32)
        _add(writer, p + "attn_q.weight", w(spec.n_head * head_dim, spec.n_embd), spec.matrix_type)
        _add(writer, p + "attn_k.weight", w(spec.n_head_kv * head_dim, spec.n_embd), spec.matrix_type)
        _add(writer, p + "attn_v.weight", w(spec.n_head_kv * head_dim, spec.n_embd), spec.matrix_type)
        _add(writer, p + "attn_output.weight", w(spec.n_embd, spec.n_head * head_dim), spec.matrix_type)
        _add(writer, p + "ffn_norm.weight", ones, QT.F32)
        if spec.n_expert:
            _add(writer, p + "ffn_gate_inp.weight", w(spec.n_expert, spec.n_embd), QT.F32)
            wide, narrow = (spec.n_ff, spec.n_embd), (spec.n_embd, spec.n_ff)
            for name, (rows, cols) in {"gate": wide, "up": wide, "down": narrow}.items():
                experts = np.stack([w(rows, cols) for _ in range(spec.n_expert)])
                _add(writer, p + f"ffn_{name}_exps.weight", experts, spec.matrix_type)
        else:
            _add(writer, p + "ffn_gate.weight", w(spec.n_ff, spec.n_embd), spec.matrix_type)
            _add(writer, p + "ffn_up.weight", w(spec.n_ff, spec.n_embd), spec.matrix_type)
            _add(writer, p + "ffn_down.weight", w(spec.n_embd, spec.n_ff), spec.matrix_type)
        if gemma:
            head_ones = np.ones(head_dim, dtype=np.float32)
            _add(writer, p + "attn_q_norm.weight", head_ones, QT.F32)
            _add(writer, p + "attn_k_norm.weight", head_ones, QT.F32)
            _add(writer, p + "post_attention_norm.weight", ones, QT.F32)
            _add(writer, p + "post_ffw_norm.weight", ones, QT.F32)
    _add(writer, "output_norm.weight", ones, QT.F32)
    if spec.output_type is not None:
        _add(writer, "output.weight", w(spec.n_vocab, spec.n_embd), spec.output_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if parts > 1:
        return writer.format_shard_names(out)[0]
    os.replace(tmp, out)
    return out


def variant(spec: SyntheticSpec, **changes: object) -> SyntheticSpec:
    """A spec with some fields changed, e.g. more layers or tied embeddings."""
    return replace(spec, **changes)  # type: ignore[arg-type]


def ensure_model(directory: str | os.PathLike[str], spec: SyntheticSpec = TINY, seed: int = 0) -> Path:
    """Return a cached synthetic model in ``directory``, writing it first if it is missing."""
    digest = hashlib.sha256(f"{spec!r}/{seed}".encode()).hexdigest()[:10]
    path = Path(directory) / f"hearth-synthetic-{spec.name}-{digest}.gguf"
    if not path.exists():
        write_model(path, spec, seed)
    return path
