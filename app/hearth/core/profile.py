"""What a model is and what it costs, read from the GGUF header alone."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from hearth.core.formats import ModelFormat
from hearth.core.gguf_header import (
    ArraySummary,
    GGUFError,
    GGUFHeader,
    is_later_part,
    read_header,
    split_parts,
)
from hearth.core.repack import Matrix, RepackRules

_LAYER_RE = re.compile(r"^blk\.(\d+)\.")
# A layer's routed experts (ffn_gate_exps, ffn_up_exps, ffn_down_exps, ffn_gate_up_exps); shared experts
# (ffn_*_shexp) run for every token like a dense feed-forward.
_EXPERTS_RE = re.compile(r"^blk\.\d+\.ffn_\w+_exps\.")
TOKEN_EMBD = "token_embd.weight"
OUTPUT = "output.weight"
CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl")


@dataclass(frozen=True)
class QuantShare:
    tensors: int
    bytes: int


# The encoder-only architectures llama.cpp runs, as GGUF names them (gguf's MODEL_ARCH_NAMES).
EMBEDDING_ARCHITECTURES = frozenset(
    {
        "bert",
        "modern-bert",
        "nomic-bert",
        "nomic-bert-moe",
        "neo-bert",
        "jina-bert-v2",
        "jina-bert-v3",
        "eurobert",
    }
)


@dataclass(frozen=True)
class ModelProfile:
    path: str
    name: str
    architecture: str
    file_size: int
    block_count: int
    embedding_length: int
    feed_forward_length: int | None
    head_count: int
    head_count_kv: int
    head_dim_k: int
    head_dim_v: int
    context_length: int
    vocab_size: int
    tied_embeddings: bool
    has_chat_template: bool
    parameters: int
    layer_bytes: tuple[int, ...]
    token_embd_bytes: int
    output_bytes: int
    other_bytes: int
    tensor_data_bytes: int
    quantization: dict[str, QuantShare] = field(default_factory=dict)
    # Per layer: True where attention only sees a sliding window; empty when no layer does.
    swa_layers: tuple[bool, ...] = ()
    sliding_window: int = 0
    license: str = ""  # as the file states it (general.license), "" when it does not
    format: ModelFormat = ModelFormat.GGUF
    # Mixture of experts: experts per layer, how many each token goes through, and per layer the bytes
    # of the expert tensors, of which a token reads only its experts' share. Zero and empty when dense.
    expert_count: int = 0
    expert_used_count: int = 0
    expert_bytes: tuple[int, ...] = ()
    # Per layer, the weight matrices (and the output head's, when it has its own): what a CPU may repack.
    layer_matrices: tuple[tuple[Matrix, ...], ...] = ()
    output_matrix: Matrix | None = None
    # Which tokenizer it speaks, from its vocabulary itself: models with the same one can draft for
    # each other (speculative decoding). "" when the file does not say.
    tokenizer: str = ""

    def __post_init__(self) -> None:
        # A profile built from plain values (JSON, a test's "mlx") still answers what its format can do.
        object.__setattr__(self, "format", ModelFormat(self.format))

    def repacked_bytes(self, rules: RepackRules, start: int, end: int, output: bool = False) -> int:
        """Bytes the CPU backend copies into its repacked layout for layers ``[start, end)`` (and the
        output head with ``output``)."""
        if not rules:
            return 0
        total = sum(rules.repacked_bytes(layer) for layer in self.layer_matrices[start:end])
        if output and self.output_matrix is not None:
            total += rules.repacked_bytes((self.output_matrix,))
        return total

    def read_bytes(self, start: int, end: int) -> float:
        """Weight bytes a token reads in layers ``[start, end)``: every layer's dense tensors and, in a
        mixture of experts, the share of the expert tensors its experts hold."""
        total = float(sum(self.layer_bytes[start:end]))
        if self.expert_count and self.expert_bytes:
            unused = 1 - min(self.expert_used_count, self.expert_count) / self.expert_count
            total -= unused * sum(self.expert_bytes[start:end])
        return total

    def attention_kinds(self, start: int, end: int) -> int:
        """How many kinds of attention (full, sliding window) layers ``[start, end)`` use; llama.cpp
        builds one mask per kind."""
        if end <= start:
            return 0
        if not self.swa_layers:
            return 1
        return len(set(self.swa_layers[start:end]))

    @property
    def embedding_only(self) -> bool:
        """An encoder made for embeddings (BERT and its kin): it makes vectors for search and cannot
        chat. A chat model can make embeddings too; this says the model can do nothing else."""
        return self.architecture in EMBEDDING_ARCHITECTURES

    @property
    def dominant_type(self) -> str:
        """The tensor type that holds most of the bytes, the way people name a quantization."""
        return max(self.quantization.items(), key=lambda kv: kv[1].bytes)[0] if self.quantization else "?"

    def kv_bytes_per_token_per_layer(
        self, cache_type_k: str = "f16", cache_type_v: str | None = None
    ) -> float:
        """Bytes of K and V cache that one token costs in one layer."""
        k = self.head_count_kv * self.head_dim_k * cache_element_size(cache_type_k)
        v = self.head_count_kv * self.head_dim_v * cache_element_size(cache_type_v or cache_type_k)
        return k + v

    def kv_bytes(self, n_ctx: int, layers: int | None = None, cache_type: str = "f16") -> int:
        """KV cache bytes for ``n_ctx`` cells over ``layers`` layers (all layers by default)."""
        n_layers = self.block_count if layers is None else layers
        return round(self.kv_bytes_per_token_per_layer(cache_type) * n_ctx * n_layers)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["format"] = self.format.value
        out["layer_bytes"] = list(self.layer_bytes)
        out["expert_bytes"] = list(self.expert_bytes)
        out["dominant_type"] = self.dominant_type
        out["kv_bytes_per_token_per_layer_f16"] = self.kv_bytes_per_token_per_layer("f16")
        return out


def cache_element_size(cache_type: str) -> float:
    """Bytes per element of a KV cache type such as 'f16' or 'q8_0'."""
    try:
        qtype = GGMLQuantizationType[cache_type.upper()]
    except KeyError:
        raise ValueError(f"unknown cache type '{cache_type}' (known: {', '.join(CACHE_TYPES)})") from None
    block, size = GGML_QUANT_SIZES[qtype]
    return size / block


# Architectures whose sliding-window layers llama.cpp places by a repeating pattern when the file does not
# list them: (period, whether the full-attention layer comes first in each period).
_SWA_PATTERNS = {
    "gemma2": (2, False),
    "gemma3": (6, False),
    "gemma-embedding": (6, False),
    "gemma3n": (5, False),
    "cohere2": (4, False),
    "exaone4": (4, False),
    "olmo2": (4, False),
    "llama4": (4, False),
    "gpt-oss": (2, False),
}


def sliding_window_layers(md: dict[str, Any], arch: str, block_count: int) -> tuple[tuple[bool, ...], int]:
    """Which layers attend only to a sliding window, and the window, as llama.cpp reads them: a per-layer
    list in the file, a period in the file, or the architecture's own period."""
    window = md.get(f"{arch}.attention.sliding_window")
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return (), 0
    listed = md.get(f"{arch}.attention.sliding_window_pattern")
    if isinstance(listed, list) and len(listed) == block_count and all(isinstance(v, bool) for v in listed):
        return tuple(listed), window
    period, dense_first = _SWA_PATTERNS.get(arch, (0, False))
    if isinstance(listed, int) and not isinstance(listed, bool):
        period = listed
    if period <= 0:
        return (True,) * block_count, window
    if dense_first:
        return tuple(i % period != 0 for i in range(block_count)), window
    return tuple(i % period < period - 1 for i in range(block_count)), window


def _int_key(md: dict[str, Any], key: str, default: int | None = None) -> int:
    value = md.get(key, default)
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        # Some architectures give a per-layer list; the largest layer is the one that bounds memory.
        value = max(value)
    if not isinstance(value, int) or isinstance(value, bool):
        if value is None:
            raise GGUFError(f"missing metadata key '{key}'")
        raise GGUFError(f"metadata key '{key}' should be an integer, got {type(value).__name__}")
    if value < 0:
        raise GGUFError(f"metadata key '{key}' is negative ({value})")
    return value


def profile_from_header(header: GGUFHeader, more: Sequence[GGUFHeader] = ()) -> ModelProfile:
    """The profile of a model from its header; ``more``: the headers of its other parts when it is
    split over several files (metadata comes from the first, tensors from every part)."""
    md = header.metadata
    parts = (header, *more)
    count = _int_key(md, "split.count", 1)
    if max(count, 1) != len(parts):
        raise GGUFError(f"the model is split into {count} files, {len(parts)} were read")
    all_tensors = [t for part in parts for t in part.tensors]
    arch = md.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise GGUFError("missing metadata key 'general.architecture'")
    block_count = _int_key(md, f"{arch}.block_count")
    if block_count == 0:
        raise GGUFError(f"'{arch}.block_count' is zero")
    # Every layer holds at least one tensor: a count beyond the tensor table is a lie, and believing it
    # would allocate per-layer tables of that size.
    if block_count > len(all_tensors):
        raise GGUFError(
            f"'{arch}.block_count' says {block_count} layers but the file has {len(all_tensors)} tensors"
        )
    n_embd = _int_key(md, f"{arch}.embedding_length")
    n_head = _int_key(md, f"{arch}.attention.head_count")
    if n_head == 0:
        raise GGUFError(f"'{arch}.attention.head_count' is zero")
    n_head_kv = _int_key(md, f"{arch}.attention.head_count_kv", n_head)
    head_k = _int_key(md, f"{arch}.attention.key_length", n_embd // n_head)
    head_v = _int_key(md, f"{arch}.attention.value_length", n_embd // n_head)
    ctx = _int_key(md, f"{arch}.context_length", 0)
    n_ff = md.get(f"{arch}.feed_forward_length")
    n_ff = max(n_ff) if isinstance(n_ff, list) and n_ff else n_ff

    layer_bytes = [0] * block_count
    expert_bytes = [0] * block_count
    token_embd = output = other = params = 0
    quant: dict[str, list[int]] = {}
    matrices: list[list[Matrix]] = [[] for _ in range(block_count)]
    output_matrix: Matrix | None = None
    embd_matrix: Matrix | None = None
    token_embd_shape: tuple[int, ...] | None = None
    for t in all_tensors:
        elements = 1
        for d in t.shape:
            elements *= d
        params += elements
        share = quant.setdefault(t.type_name, [0, 0])
        share[0] += 1
        share[1] += t.nbytes
        m = _LAYER_RE.match(t.name)
        if m:
            idx = int(m.group(1))
            if idx >= block_count:
                raise GGUFError(f"tensor '{t.name}' names layer {idx} but the model has {block_count} layers")
            layer_bytes[idx] += t.nbytes
            if _is_matrix(t.shape, experts=bool(_EXPERTS_RE.match(t.name))):
                matrices[idx].append(Matrix(t.type_name, t.shape[1], t.nbytes))
            if _EXPERTS_RE.match(t.name):
                expert_bytes[idx] += t.nbytes
        elif t.name == TOKEN_EMBD:
            token_embd += t.nbytes
            token_embd_shape = t.shape
            embd_matrix = Matrix(t.type_name, t.shape[1], t.nbytes) if _is_matrix(t.shape) else None
        elif t.name == OUTPUT:
            output += t.nbytes
            if _is_matrix(t.shape):
                output_matrix = Matrix(t.type_name, t.shape[1], t.nbytes)
        else:
            other += t.nbytes
    if token_embd_shape is None:
        raise GGUFError(f"missing tensor '{TOKEN_EMBD}'")

    tokens = md.get("tokenizer.ggml.tokens")
    if isinstance(tokens, ArraySummary):
        vocab = tokens.length
    elif isinstance(tokens, list):
        vocab = len(tokens)
    else:
        vocab = token_embd_shape[-1]
    tokenizer = tokenizer_id(md.get("tokenizer.ggml.model"), tokens)
    name = md.get("general.name")
    swa_layers, sliding_window = sliding_window_layers(md, arch, block_count)
    experts = _int_key(md, f"{arch}.expert_count", 0)
    experts_used = _int_key(md, f"{arch}.expert_used_count", 0) if experts else 0
    if experts and not 0 < experts_used <= experts:
        raise GGUFError(f"'{arch}.expert_used_count' is {experts_used} of {experts} experts")
    # Some families give the experts' feed-forward width separately from the dense layers'.
    n_ff_experts = md.get(f"{arch}.expert_feed_forward_length")
    if experts and isinstance(n_ff_experts, int) and not isinstance(n_ff_experts, bool) and n_ff_experts > 0:
        n_ff = n_ff_experts
    return ModelProfile(
        path=header.path,
        name=name if isinstance(name, str) else "",
        architecture=arch,
        file_size=sum(part.file_size for part in parts),
        block_count=block_count,
        embedding_length=n_embd,
        feed_forward_length=n_ff if isinstance(n_ff, int) else None,
        head_count=n_head,
        head_count_kv=n_head_kv,
        head_dim_k=head_k,
        head_dim_v=head_v,
        context_length=ctx,
        vocab_size=vocab,
        tied_embeddings=output == 0,
        has_chat_template=isinstance(md.get("tokenizer.chat_template"), str),
        parameters=params,
        layer_bytes=tuple(layer_bytes),
        token_embd_bytes=token_embd,
        output_bytes=output,
        other_bytes=other,
        tensor_data_bytes=sum(part.tensor_data_bytes for part in parts),
        quantization={k: QuantShare(n, b) for k, (n, b) in sorted(quant.items())},
        swa_layers=swa_layers,
        sliding_window=sliding_window,
        license=lic if isinstance(lic := md.get("general.license"), str) else "",
        tokenizer=tokenizer,
        expert_count=experts,
        expert_used_count=experts_used,
        expert_bytes=tuple(expert_bytes) if experts else (),
        layer_matrices=tuple(tuple(layer) for layer in matrices),
        # A tied head is the token embedding, which llama.cpp duplicates for the head's product.
        output_matrix=output_matrix if output else embd_matrix,
    )


def _is_matrix(shape: tuple[int, ...], experts: bool = False) -> bool:
    # llama.cpp repacks 2-D matrices, and the 3-D stacks of a mixture of experts' matrices (other 3-D
    # weights, such as MLA's attention factors, are multiplied as batches and stay as they are).
    return len(shape) == 2 or (experts and len(shape) == 3)


def read_profile(path: str) -> ModelProfile:
    """Profile a GGUF file (with its other parts when it is the first of a split model); raises
    GGUFError with one clear line when the file is unusable."""
    if is_later_part(Path(path).name):
        raise GGUFError("this is a later part of a split model: open its first part (…-00001-of-…)")
    first = read_header(path)
    if _int_key(first.metadata, "split.count", 1) <= 1:
        return profile_from_header(first)
    return profile_from_header(first, [read_header(p) for p in split_parts(path)[1:]])


def shaped_profile(
    layer_bytes: list[int] | tuple[int, ...],
    *,
    embedding_length: int,
    feed_forward_length: int,
    head_count: int,
    head_count_kv: int,
    vocab_size: int,
    head_bytes: int,
    name: str = "shaped",
) -> ModelProfile:
    """A profile from shapes and sizes alone, for planning a model that is not on disk."""
    head_dim = embedding_length // head_count
    return ModelProfile(
        path="",
        name=name,
        architecture="llama",
        file_size=0,
        block_count=len(layer_bytes),
        embedding_length=embedding_length,
        feed_forward_length=feed_forward_length,
        head_count=head_count,
        head_count_kv=head_count_kv,
        head_dim_k=head_dim,
        head_dim_v=head_dim,
        context_length=0,
        vocab_size=vocab_size,
        tied_embeddings=False,
        has_chat_template=False,
        parameters=0,
        layer_bytes=tuple(layer_bytes),
        token_embd_bytes=head_bytes,
        output_bytes=head_bytes,
        other_bytes=0,
        tensor_data_bytes=sum(layer_bytes) + 2 * head_bytes,
    )


# Longer contexts cost memory on every device of a plan; users ask for more when they need it.
DEFAULT_MAX_CONTEXT = 4096


def default_context(profile: ModelProfile) -> int:
    """The context a load gets when nobody chose one: the model's own, at most 4096 tokens."""
    return min(profile.context_length or DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT)


def tokenizer_id(model: object, tokens: object) -> str:
    """What identifies a vocabulary: its kind and a digest of its first tokens, as many as the largest
    power of two it holds, so that pad tokens at the end (a larger model of a family pads its
    vocabulary to a rounder size) do not tell two models of one family apart."""
    if not isinstance(model, str):
        return ""
    if isinstance(tokens, ArraySummary):
        return f"{model}:{tokens.head_digest}" if tokens.head_digest else ""
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        return ""
    head = 1 << (len(tokens).bit_length() - 1)
    # The bytes as the file holds them, so that a summarised array's digest and this one agree.
    raw = b"".join(len(b := t.encode("utf-8")).to_bytes(8, "little") + b for t in tokens[:head])
    return f"{model}:{hashlib.blake2b(raw, digest_size=16).hexdigest()}"
