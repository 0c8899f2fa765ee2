"""MLX models (mlx-lm's format): a folder with ``config.json``, ``*.safetensors`` and a tokenizer.

Read without MLX: the profile comes from ``config.json`` and the safetensors headers (a length and a
JSON table of every tensor's dtype, shape and byte range), so any machine can list and plan one; only
a Mac (or Linux with ``mlx[cpu]``) runs it.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

from hearth.core.formats import ModelFormat
from hearth.core.gguf_header import GGUFError
from hearth.core.profile import ModelProfile, QuantShare

_LAYER = re.compile(r"^(?:model\.|language_model\.model\.)?layers\.(\d+)\.")
DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "U32": 4, "I32": 4, "U8": 1, "I8": 1, "F64": 8, "I64": 8}


class MlxModelError(GGUFError):
    """The folder is not a usable MLX model; the message says what is wrong."""


def is_mlx_model(path: str | Path) -> bool:
    folder = Path(path)
    return folder.is_dir() and (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


# A safetensors file starts with the length of its JSON header (8 bytes, little-endian).
MAX_SAFETENSORS_HEADER = 100 * 2**20


def header_length(prefix: bytes, name: str) -> int:
    """The length of a safetensors header from the file's first 8 bytes."""
    if len(prefix) < 8:
        raise MlxModelError(f"{name} is too short to be a safetensors file")
    (length,) = struct.unpack("<Q", prefix[:8])
    if length > MAX_SAFETENSORS_HEADER:
        raise MlxModelError(f"{name}: a {length}-byte header is not a safetensors file")
    return int(length)


def parse_header(data: bytes, name: str) -> dict[str, dict[str, Any]]:
    """The tensor table (name -> dtype, shape, data_offsets) from a header's JSON."""
    try:
        table = json.loads(data)
    except ValueError as exc:
        raise MlxModelError(f"{name}: the header is not JSON ({exc})") from None
    if not isinstance(table, dict):
        raise MlxModelError(f"{name}: the header is not a table of tensors")
    table.pop("__metadata__", None)
    return table


def safetensors_header(path: Path) -> dict[str, dict[str, Any]]:
    """The tensor table of a .safetensors file on this device."""
    with path.open("rb") as f:
        length = header_length(f.read(8), path.name)
        return parse_header(f.read(length), path.name)


def _tensor(name: str, info: Any) -> tuple[str, int, int]:
    """A tensor's dtype, byte size and element count; MlxModelError for an entry that is not one."""
    try:
        start, end = (int(x) for x in info["data_offsets"])
        count = 1
        for n in info["shape"]:
            count *= int(n)
        return str(info["dtype"]), end - start, count
    except (KeyError, TypeError, ValueError):
        raise MlxModelError(f"the weights' table has a malformed entry for {name!r}") from None


def read_mlx_profile(path: str | Path) -> ModelProfile:
    folder = Path(path)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MlxModelError(f"{folder} has no config.json") from None
    except ValueError as exc:
        raise MlxModelError(f"{folder}/config.json is not JSON ({exc})") from None
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise MlxModelError(f"{folder} has no .safetensors weights")
    tokenizer_config = {}
    if (folder / "tokenizer_config.json").exists():
        try:
            tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        except ValueError:
            pass
    return mlx_profile(
        str(folder),
        folder.name,
        config,
        [safetensors_header(f) for f in files],
        bool(tokenizer_config.get("chat_template")) or (folder / "chat_template.jinja").exists(),
        sum(f.stat().st_size for f in folder.iterdir() if f.is_file()),
    )


def mlx_profile(
    path: str,
    name: str,
    config: dict[str, Any],
    headers: list[dict[str, dict[str, Any]]],
    chat_template: bool,
    file_size: int,
) -> ModelProfile:
    """An MLX model's profile from its config and its weights' tensor tables (read here or from the hub)."""
    folder = path
    try:
        text = config.get("text_config", config)  # multimodal configs nest the language model's
        layers = int(text["num_hidden_layers"])
        hidden = int(text["hidden_size"])
        heads = int(text["num_attention_heads"])
        vocab = int(text["vocab_size"])
        kv_heads = int(text.get("num_key_value_heads") or heads)
        head_dim = int(text.get("head_dim") or hidden // heads)
        quant = config.get("quantization")
        bits = int(quant.get("bits", 32)) if isinstance(quant, dict) else 32
        if not (layers > 0 and heads > 0 and 0 < bits <= 32):
            raise ValueError("layers, heads or bits out of range")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
        raise MlxModelError(f"{folder}: config.json does not describe a model ({exc})") from None
    layer_bytes = [0] * layers
    embed = head = other = params = 0
    kinds: dict[str, QuantShare] = {}
    for table in headers:
        for tensor, info in table.items():
            dtype, size, count = _tensor(tensor, info)
            # Packed 4- or 8-bit weights are U32 words holding several values each.
            params += count * (32 // bits) if dtype == "U32" else count
            share = kinds.get(dtype, QuantShare(0, 0))
            kinds[dtype] = QuantShare(share.tensors + 1, share.bytes + size)
            match = _LAYER.match(tensor)
            if match and int(match.group(1)) < layers:
                layer_bytes[int(match.group(1))] += size
            elif "embed_tokens" in tensor:
                embed += size
            elif "lm_head" in tensor:
                head += size
            else:
                other += size
    if isinstance(quant, dict):
        kinds = {
            f"MLX {quant.get('bits', '?')}-bit": QuantShare(
                sum(k.tensors for k in kinds.values()), sum(k.bytes for k in kinds.values())
            )
        }
    total = embed + head + other + sum(layer_bytes)
    return ModelProfile(
        path=path,
        name=str(config.get("_name_or_path") or name),
        architecture=str(text.get("model_type", config.get("model_type", "?"))),
        file_size=file_size,
        block_count=layers,
        embedding_length=hidden,
        feed_forward_length=text.get("intermediate_size"),
        head_count=heads,
        head_count_kv=kv_heads,
        head_dim_k=head_dim,
        head_dim_v=head_dim,
        context_length=int(text.get("max_position_embeddings") or 4096),
        vocab_size=vocab,
        tied_embeddings=bool(text.get("tie_word_embeddings", config.get("tie_word_embeddings", False))),
        has_chat_template=chat_template,
        parameters=params,
        layer_bytes=tuple(layer_bytes),
        token_embd_bytes=embed,
        output_bytes=head,
        other_bytes=other,
        tensor_data_bytes=total,
        quantization=kinds,
        sliding_window=int(text.get("sliding_window") or 0),
        format=ModelFormat.MLX,
    )
