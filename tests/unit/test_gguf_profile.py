from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

import gguf
import pytest
from gguf import GGMLQuantizationType as QT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.core.gguf_header import GGUFError, parse, read_header
from hearth.core.profile import cache_element_size, profile_from_header, read_profile, sliding_window_layers
from hearth.models import synthetic


def test_byte_counts_add_up_to_the_tensor_data(tiny_model: Path) -> None:
    p = read_profile(str(tiny_model))
    parts = sum(p.layer_bytes) + p.token_embd_bytes + p.output_bytes + p.other_bytes
    assert parts == p.tensor_data_bytes

    # An independent reader of the same file agrees on every tensor's size.
    reader = gguf.GGUFReader(tiny_model)
    assert sum(int(t.n_bytes) for t in reader.tensors) == p.tensor_data_bytes
    per_layer = [0] * p.block_count
    for t in reader.tensors:
        if t.name.startswith("blk."):
            per_layer[int(t.name.split(".")[1])] += int(t.n_bytes)
    assert tuple(per_layer) == p.layer_bytes
    header = read_header(tiny_model)
    assert header.data_offset == reader.data_offset
    padding = header.file_size - header.data_offset - p.tensor_data_bytes
    assert 0 <= padding < len(header.tensors) * header.alignment


def test_shape_fields_match_the_spec(tiny_model: Path) -> None:
    spec = synthetic.TINY
    p = read_profile(str(tiny_model))
    assert (p.architecture, p.block_count, p.embedding_length) == ("llama", spec.n_layer, spec.n_embd)
    assert (p.head_count, p.head_count_kv) == (spec.n_head, spec.n_head_kv)
    assert p.head_dim_k == p.head_dim_v == spec.n_embd // spec.n_head
    assert (p.context_length, p.vocab_size, p.feed_forward_length) == (spec.n_ctx, spec.n_vocab, spec.n_ff)
    assert not p.tied_embeddings and p.has_chat_template
    assert p.dominant_type == "F16"
    # K and V, f16, one token, one layer.
    assert p.kv_bytes_per_token_per_layer("f16") == 2 * spec.n_head_kv * p.head_dim_k * 2
    assert p.kv_bytes(1000) == 1000 * spec.n_layer * 2 * spec.n_head_kv * p.head_dim_k * 2


def test_tied_and_quantized_models(tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, output_type=None, matrix_type=QT.Q8_0, n_embd=64)
    path = synthetic.write_model(tmp_path / "tied.gguf", spec)
    p = read_profile(str(path))
    assert p.tied_embeddings and p.output_bytes == 0
    assert p.dominant_type == "Q8_0"
    assert set(p.quantization) == {"F16", "F32", "Q8_0"}
    assert sum(q.bytes for q in p.quantization.values()) == p.tensor_data_bytes
    assert p.kv_bytes_per_token_per_layer("q8_0") == pytest.approx(2 * 2 * 16 * 34 / 32)


def test_unknown_cache_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown cache type 'f12'"):
        cache_element_size("f12")


# --- malformed files -------------------------------------------------------------------------------


def _s(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv_str(key: str, value: str) -> bytes:
    return _s(key) + struct.pack("<I", 8) + _s(value)


def _kv_u32(key: str, value: int) -> bytes:
    return _s(key) + struct.pack("<I", 4) + struct.pack("<I", value)


def _tensor(name: str, dims: list[int], ttype: int, offset: int) -> bytes:
    shape = b"".join(struct.pack("<Q", d) for d in dims)
    return _s(name) + struct.pack("<I", len(dims)) + shape + struct.pack("<IQ", ttype, offset)


def _gguf(
    kvs: list[bytes], tensors: list[bytes], data: bytes = b"", version: int = 3, align: int = 32
) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(tensors)
    head += b"\0" * (-len(head) % align)
    return head + data


_ARCH = [_kv_str("general.architecture", "llama"), _kv_u32("llama.block_count", 1)]


def _valid() -> bytes:
    return _gguf(_ARCH, [_tensor("token_embd.weight", [4, 2], 0, 0)], b"\0" * 32)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "empty file": (b"", "empty file"),
    "wrong magic": (b"GGML" + b"\0" * 60, "not a GGUF file"),
    "short magic": (b"GG", "not a GGUF file"),
    "unsupported version": (_gguf(_ARCH, [], version=7), "unsupported GGUF version 7"),
    "big-endian": (b"GGUF" + struct.pack(">I", 3) + b"\0" * 40, "big-endian"),
    "truncated in metadata": (_valid()[:60], "truncated header"),
    "absurd metadata count": (
        b"GGUF" + struct.pack("<IQQ", 3, 0, 2**60) + b"\0" * 64,
        "absurd metadata count",
    ),
    "absurd tensor count": (b"GGUF" + struct.pack("<IQQ", 3, 2**50, 0) + b"\0" * 64, "absurd tensor count"),
    "absurd string length": (
        b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 2**62) + b"\0" * 32,
        "absurd length",
    ),
    "unknown value type": (_gguf([_s("k") + struct.pack("<I", 99) + b"\0" * 8], []), "unknown value type 99"),
    "absurd array length": (
        _gguf([_s("k") + struct.pack("<IIQ", 9, 4, 2**40)], []),
        "absurd array length",
    ),
    "invalid utf-8 key": (_gguf([_s(b"\xff\xfe") + struct.pack("<I", 4) + b"\0" * 4], []), "not valid UTF-8"),
    "duplicate key": (_gguf([_kv_u32("a", 1), _kv_u32("a", 2)], []), "duplicate metadata key"),
    "bad alignment": (_gguf([_kv_u32("general.alignment", 24)], []), "power of two"),
    "unknown tensor type": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [4], 200, 0)], b"\0" * 32),
        "unknown type 200",
    ),
    "too many dimensions": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [1, 1, 1, 1, 1], 0, 0)], b"\0" * 32),
        "dimensions",
    ),
    "zero dimension": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [4, 0], 0, 0)], b"\0" * 32),
        "empty dimension",
    ),
    "row not a block multiple": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [33], int(QT.Q8_0), 0)], b"\0" * 64),
        "not a multiple",
    ),
    "truncated tensor data": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [4, 2], 0, 0)], b"\0" * 8),
        "truncated",
    ),
    "misaligned offset": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [4], 0, 0), _tensor("x", [4], 0, 16)], b"\0" * 64),
        "not aligned",
    ),
    "overlapping tensors": (
        _gguf(_ARCH, [_tensor("token_embd.weight", [16], 0, 0), _tensor("x", [16], 0, 32)], b"\0" * 128),
        "overlap",
    ),
    "duplicate tensor": (
        _gguf(
            _ARCH,
            [_tensor("token_embd.weight", [4], 0, 0), _tensor("token_embd.weight", [4], 0, 32)],
            b"\0" * 64,
        ),
        "duplicate tensor",
    ),
    "no architecture": (
        _gguf([], [_tensor("token_embd.weight", [4], 0, 0)], b"\0" * 32),
        "general.architecture",
    ),
    "missing block count": (
        _gguf(
            [_kv_str("general.architecture", "llama")], [_tensor("token_embd.weight", [4], 0, 0)], b"\0" * 32
        ),
        "llama.block_count",
    ),
    "layer beyond block count": (
        _gguf(
            [*_ARCH, _kv_u32("llama.embedding_length", 4), _kv_u32("llama.attention.head_count", 1)],
            [_tensor("token_embd.weight", [4], 0, 0), _tensor("blk.5.attn_q.weight", [4], 0, 32)],
            b"\0" * 64,
        ),
        "names layer 5",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_give_one_clear_error(case: str, tmp_path: Path) -> None:
    data, expected = MALFORMED[case]
    path = tmp_path / "bad.gguf"
    path.write_bytes(data)
    with pytest.raises(GGUFError, match=expected) as info:
        read_profile(str(path))
    assert "\n" not in str(info.value)


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="no such file"):
        read_profile(str(tmp_path / "missing.gguf"))
    with pytest.raises(GGUFError, match="is a directory"):
        read_profile(str(tmp_path))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_headers_never_escape_as_other_errors(tiny_model: Path, data: st.DataObject) -> None:
    original = tiny_model.read_bytes()
    header_end = read_header(tiny_model).data_offset
    blob = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, header_end - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(blob))))
    if cut is not None:
        del blob[cut:]
    refusal: str | None = None  # a GGUFError's message; any other error escapes
    try:
        profile_from_header(parse(bytes(blob), len(blob), "mutated"))
    except GGUFError as exc:
        refusal = str(exc)
    assert refusal != ""


def _hostile_layers(block_count: int) -> bytes:
    """A small file whose metadata claims ``block_count`` layers (a u64 key): tens of KB on disk."""
    kvs = [
        _kv_str("general.architecture", "llama"),
        _s("llama.block_count") + struct.pack("<IQ", 10, block_count),
        _kv_u32("llama.embedding_length", 4),
        _kv_u32("llama.attention.head_count", 1),
        *(_kv_str(f"pad.{i}", "x" * 200) for i in range(100)),
    ]
    return _gguf(kvs, [_tensor("token_embd.weight", [4, 2], 0, 0)], b"\0" * 32)


@pytest.mark.parametrize("block_count", [2**62, 30_000_000])
def test_hostile_layer_counts_fail_fast_and_small(block_count: int, tmp_path: Path) -> None:
    path = tmp_path / "hostile.gguf"
    path.write_bytes(_hostile_layers(block_count))
    assert path.stat().st_size > 20_000
    # In a fresh process so that the peak memory is this file's alone.
    probe = (
        "import resource, sys, time\n"
        "from hearth.core.profile import read_profile\n"
        "from hearth.core.gguf_header import GGUFError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    read_profile(sys.argv[1])\n"
        "except GGUFError as exc:\n"
        "    print('error:', exc)\n"
        "print('seconds', time.perf_counter() - t)\n"
        "print('grew_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60
    ).stdout
    assert "error: 'llama.block_count' says" in out, out
    seconds, grew = re.search(r"seconds ([0-9.e-]+)", out), re.search(r"grew_kib (\d+)", out)
    assert seconds is not None and grew is not None, out
    assert float(seconds.group(1)) < 0.1, out
    assert int(grew.group(1)) < 50 * 1024, out


def test_sliding_window_layers_follow_llama_cpp() -> None:
    # No window: no sliding-window layer, whatever else the file says.
    assert sliding_window_layers({"gemma3.attention.sliding_window_pattern": 6}, "gemma3", 12) == ((), 0)
    assert sliding_window_layers({"gemma3.attention.sliding_window": 0}, "gemma3", 12) == ((), 0)
    window = {"gemma3.attention.sliding_window": 512}
    # Gemma 3's own period: five sliding-window layers, then one full.
    layers, size = sliding_window_layers(window, "gemma3", 12)
    assert size == 512 and layers == (True,) * 5 + (False,) + (True,) * 5 + (False,)
    # A period in the file wins over the architecture's.
    layers, _ = sliding_window_layers({**window, "gemma3.attention.sliding_window_pattern": 2}, "gemma3", 4)
    assert layers == (True, False, True, False)
    # A per-layer list in the file wins over both; a list of the wrong length is not believed.
    listed = {**window, "gemma3.attention.sliding_window_pattern": [False, True, True, False]}
    assert sliding_window_layers(listed, "gemma3", 4)[0] == (False, True, True, False)
    short = {**window, "gemma3.attention.sliding_window_pattern": [True]}
    assert sliding_window_layers(short, "gemma3", 7)[0] == (True,) * 5 + (False, True)
    # An architecture llama.cpp has no period for: every layer slides.
    unknown = {"newarch.attention.sliding_window": 128}
    assert sliding_window_layers(unknown, "newarch", 3) == ((True, True, True), 128)


def test_attention_kinds_count_masks_per_range(tiny_model: Path) -> None:
    from dataclasses import replace

    plain = read_profile(str(tiny_model))
    assert (plain.attention_kinds(0, 8), plain.attention_kinds(3, 3)) == (1, 0)
    mixed = replace(plain, swa_layers=(True, True, False, True, True, False, True, True))
    assert [mixed.attention_kinds(s, e) for s, e in ((0, 2), (1, 3), (5, 6), (0, 8))] == [1, 2, 1, 2]


def test_a_mixture_of_experts_reads_only_its_experts_share(tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, name="experts", n_expert=4, n_expert_used=1)
    profile = read_profile(str(synthetic.write_model(tmp_path / "experts.gguf", spec)))
    assert (profile.expert_count, profile.expert_used_count) == (4, 1)
    # Gate, up and down for each of four experts, in f16: all of it held, a quarter of it read a token.
    experts = 4 * 3 * spec.n_ff * spec.n_embd * 2
    assert profile.expert_bytes == (experts,) * spec.n_layer
    assert profile.read_bytes(0, 2) == sum(profile.layer_bytes[:2]) - 2 * 0.75 * experts
    dense = read_profile(str(synthetic.write_model(tmp_path / "dense.gguf", synthetic.TINY)))
    assert dense.expert_bytes == () and dense.read_bytes(0, 8) == sum(dense.layer_bytes)


def test_an_impossible_expert_count_is_a_clear_error(tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, name="experts", n_expert=4, n_expert_used=2)
    path = synthetic.write_model(tmp_path / "experts.gguf", spec)
    data = path.read_bytes()
    key = b"llama.expert_used_count"
    at = data.index(key) + len(key) + 4  # the value follows the key and its u32 type
    path.write_bytes(data[:at] + struct.pack("<I", 9) + data[at + 4 :])
    with pytest.raises(GGUFError, match="expert_used_count' is 9 of 4"):
        read_profile(str(path))
