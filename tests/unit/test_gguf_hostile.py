"""Hostile GGUF headers stay cheap: what the parser keeps is bounded by a budget per model, not by what
the file claims; arrays of arrays are refused as llama.cpp refuses them; every failure is a GGUFError."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.core.gguf_header import (
    MAX_KEPT_ARRAY,
    MAX_KEPT_VALUES,
    MAX_SKIPPED_STRINGS,
    ArraySummary,
    GGUFError,
    HeaderBudget,
    NeedMoreBytes,
    parse,
    read_model_headers,
)
from hearth.core.profile import profile_from_header, read_profile
from hearth.models import synthetic

U8, BOOL, STRING, ARRAY, U64 = 0, 7, 8, 9, 10


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _header(kvs: list[bytes], n_tensors: int = 0, tensors: bytes = b"") -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(kvs)) + b"".join(kvs) + tensors


def _bools(n: int) -> bytes:
    return struct.pack("<IQ", BOOL, n) + b"\1" * n


def _kept(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def _peak_while(fn: Any) -> tuple[Any, int]:
    """What ``fn`` returns or raises, and the most memory Python held for it at once."""
    tracemalloc.start()
    try:
        try:
            result: Any = fn()
        except GGUFError as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_array_of_16k_arrays_of_1024_booleans_is_refused_before_any_is_built() -> None:
    # 16 MiB of header that the old reader turned into 16 million Python booleans (13 s, 244 MB).
    data = _header([_s("k") + struct.pack("<IIQ", ARRAY, ARRAY, 16384) + _bools(1024) * 16384])
    assert len(data) > 16 << 20
    error, peak = _peak_while(lambda: parse(data, len(data)))
    assert isinstance(error, GGUFError)
    assert "'k' is an array of arrays, which llama.cpp does not load" in str(error)
    assert peak < 256 << 10, f"{peak} bytes held to refuse it"


def test_many_small_arrays_keep_no_more_than_the_budget() -> None:
    # The same 16 million booleans as 16k keys of one short array each: kept up to the budget, the rest
    # summarised without building their elements.
    data = _header([_s(f"k{i}") + struct.pack("<I", ARRAY) + _bools(1024) for i in range(16384)])
    header, peak = _peak_while(lambda: parse(data, len(data)))
    values = list(header.metadata.values())
    kept = sum(_kept(v) for v in values)
    assert kept <= MAX_KEPT_VALUES - len(values)
    assert all(isinstance(v, list | ArraySummary) for v in values)
    assert all(v.length == 1024 and v.element_type == "BOOL" for v in values if isinstance(v, ArraySummary))
    assert sum(isinstance(v, ArraySummary) for v in values) > 16384 - MAX_KEPT_VALUES // 1024
    assert peak < 32 << 20, f"{peak} bytes held"


def test_long_arrays_are_summarised_and_short_ones_kept() -> None:
    data = _header(
        [
            _s("short") + struct.pack("<I", ARRAY) + _bools(MAX_KEPT_ARRAY),
            _s("long") + struct.pack("<I", ARRAY) + _bools(MAX_KEPT_ARRAY + 1),
            _s("words") + struct.pack("<IIQ", ARRAY, STRING, 2) + _s("a") + _s("bc"),
        ]
    )
    md = parse(data, len(data)).metadata
    assert md["short"] == [True] * MAX_KEPT_ARRAY
    assert md["long"] == ArraySummary("BOOL", MAX_KEPT_ARRAY + 1)
    assert md["words"] == ["a", "bc"]


def test_more_keys_than_the_budget_are_refused_before_they_are_read() -> None:
    n = MAX_KEPT_VALUES + 1
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, n) + (_s("k") + struct.pack("<IB", U8, 0)) * n
    error, peak = _peak_while(lambda: parse(data, len(data)))
    assert isinstance(error, GGUFError)
    assert "metadata keys" in str(error) and "more than any model" in str(error)
    assert peak < 256 << 10


def test_more_strings_than_any_vocabulary_are_refused_before_they_are_walked() -> None:
    n = MAX_SKIPPED_STRINGS + 1
    data = _header([_s("v") + struct.pack("<IIQ", ARRAY, STRING, n) + struct.pack("<Q", 0) * n])
    with pytest.raises(GGUFError, match=r"'v' holds \d+ strings, more than any model's vocabulary"):
        parse(data, len(data))


def test_the_parts_of_a_split_model_share_one_budget() -> None:
    part = _header([_s("general.name") + struct.pack("<I", STRING) + _s("x" * 1000)])
    budget = HeaderBudget(bytes=len(part) * 3 // 2)
    parse(part, len(part), "part 1", budget=budget)
    assert budget.bytes == len(part) // 2
    with pytest.raises(GGUFError, match=r"larger than \d+ KiB with the headers of the model's other parts"):
        parse(part, len(part), "part 2", budget=budget)
    # Kept values too: a part that would keep more than is left summarises its arrays.
    arrays = _header([_s("a") + struct.pack("<I", ARRAY) + _bools(600)])
    budget = HeaderBudget(values=1000)
    assert parse(arrays, len(arrays), budget=budget).metadata["a"] == [True] * 600
    assert parse(arrays, len(arrays), budget=budget).metadata["a"] == ArraySummary("BOOL", 600)


def test_a_header_past_the_budget_is_refused_rather_than_fetched_further() -> None:
    # A hub's header read in pieces: past the budget, the parser refuses instead of asking for more.
    data = _header([_s("v") + struct.pack("<IIQ", ARRAY, U8, 5000) + b"\0" * 5000, _s("w") + _s("x")])
    with pytest.raises(NeedMoreBytes):
        parse(data[:100], len(data), available=100)
    with pytest.raises(GGUFError, match="larger than") as info:
        parse(data[:100], len(data), available=100, budget=HeaderBudget(bytes=1000))
    assert not isinstance(info.value, NeedMoreBytes)


def test_a_failed_or_partial_parse_spends_nothing() -> None:
    data = _header([_s("v") + struct.pack("<IIQ", ARRAY, U8, 50) + b"\0" * 50])
    budget = HeaderBudget()
    with pytest.raises(NeedMoreBytes):
        parse(data[:30], len(data), available=30, budget=budget)
    assert budget == HeaderBudget()
    parse(data, len(data), budget=budget)
    assert budget.bytes == HeaderBudget().bytes - len(data)
    assert budget.values == HeaderBudget().values - 1 - 50


def test_a_split_model_reads_the_same_with_one_budget(tmp_path: Path) -> None:
    first = synthetic.write_model(tmp_path / "Tiny-Q8_0.gguf", synthetic.TINY, parts=2)
    header, more = read_model_headers(str(first))
    assert len(more) == 1
    assert profile_from_header(header, more) == read_profile(str(first))
    with pytest.raises(GGUFError, match="later part"):
        read_model_headers(str(first).replace("00001-of", "00002-of"))


# --- fuzzing: random metadata, arrays of arrays and lying counts included ------------------------------

_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


@st.composite
def _value(draw: st.DrawFn, depth: int = 0) -> tuple[int, bytes]:
    """A value's type and its bytes; arrays may nest, and their counts may say more than they hold."""
    kind = draw(st.sampled_from([*_SCALAR_SIZES, STRING, ARRAY, 13, 255]) if depth < 3 else st.just(0))
    if kind in _SCALAR_SIZES:
        return kind, draw(st.binary(min_size=_SCALAR_SIZES[kind], max_size=_SCALAR_SIZES[kind]))
    if kind == STRING:
        text = draw(st.binary(max_size=12))
        length = draw(st.one_of(st.just(len(text)), st.integers(0, 2**64 - 1)))
        return kind, struct.pack("<Q", length) + text
    if kind == ARRAY:
        items = draw(st.lists(_value(depth + 1), max_size=6))
        etype = items[0][0] if items else draw(st.sampled_from([0, STRING, ARRAY]))
        count = draw(st.one_of(st.just(len(items)), st.integers(0, 2**64 - 1), st.integers(0, 5000)))
        # Elements of the declared type are written without their type tag, as GGUF does.
        body = b"".join(raw for t, raw in items)
        return kind, struct.pack("<IQ", etype, count) + body
    return kind, draw(st.binary(max_size=8))  # an unknown type


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(_value(), max_size=6),
    extra=st.binary(max_size=64),
    n_tensors=st.integers(0, 3),
    cut=st.one_of(st.none(), st.integers(0, 400)),
)
def test_random_metadata_parses_or_raises_gguf_error_only(
    values: list[tuple[int, bytes]], extra: bytes, n_tensors: int, cut: int | None
) -> None:
    kvs = [_s(f"k{i}") + struct.pack("<I", kind) + raw for i, (kind, raw) in enumerate(values)]
    data = _header(kvs, n_tensors, extra)
    refusal: str | None = None  # a GGUFError's message; any other error escapes
    try:
        header = parse(data, len(data), "fuzz")
    except GGUFError as exc:
        refusal = str(exc)
    else:
        kept = sum(_kept(v) for v in header.metadata.values())
        assert kept + len(header.metadata) + len(header.tensors) <= MAX_KEPT_VALUES
    assert refusal is None or (refusal != "" and "\n" not in refusal), refusal
    if cut is not None:
        # The same bytes arriving in part, as from the hub: more needed, or the same errors.
        refusal = None
        try:
            parse(data[:cut], len(data), "fuzz", available=min(cut, len(data)))
        except GGUFError as exc:
            refusal = str(exc)
        assert refusal != ""
