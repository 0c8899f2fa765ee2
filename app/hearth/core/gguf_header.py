"""A bounded reader for the GGUF header and tensor table.

Every count and length read from the file is checked against the bytes that remain before it is used,
so a corrupt or hostile file fails fast with one clear message instead of allocating, looping or
reading out of range. Tensor data is never read.
"""

from __future__ import annotations

import hashlib
import itertools
import mmap
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

from hearth.core.errors import HearthError
from hearth.core.units import human_size

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4
# Arrays longer than this are summarised (type and length) rather than materialised: the profile needs
# only their length (a 256k-token vocabulary) and keeping them would cost memory for nothing.
MAX_KEPT_ARRAY = 1024
# What the headers of one model keep, all its parts together: a value per metadata key, per element of
# the arrays that are kept, and per tensor. A real model keeps a few thousand (its vocabulary is
# summarised); a hostile header of a million small arrays, keys or tensors would otherwise become as
# many Python objects. Past this, arrays are summarised too; keys and tensors past it are refused.
MAX_KEPT_VALUES = 1 << 17
# Strings stepped over in summarised arrays (a vocabulary, its merges): unkept, each is still a step of
# Python. The largest vocabularies hold a few hundred thousand tokens.
MAX_SKIPPED_STRINGS = 1 << 22
# Bytes of header (metadata and tensor table) of one model, all its parts together. Real headers take a
# few megabytes (the vocabulary); this bounds what is read or fetched for one before it is refused.
MAX_HEADER_BYTES = 256 << 20

_SCALARS: dict[GGUFValueType, tuple[str, int]] = {
    GGUFValueType.UINT8: ("<B", 1),
    GGUFValueType.INT8: ("<b", 1),
    GGUFValueType.UINT16: ("<H", 2),
    GGUFValueType.INT16: ("<h", 2),
    GGUFValueType.UINT32: ("<I", 4),
    GGUFValueType.INT32: ("<i", 4),
    GGUFValueType.FLOAT32: ("<f", 4),
    GGUFValueType.BOOL: ("<?", 1),
    GGUFValueType.UINT64: ("<Q", 8),
    GGUFValueType.INT64: ("<q", 8),
    GGUFValueType.FLOAT64: ("<d", 8),
}
_MIN_STRING = 8
_MIN_KV = _MIN_STRING + 1 + 4 + 1  # key length + one key byte + value type + smallest value
_MIN_TENSOR_INFO = _MIN_STRING + 1 + 4 + 8 + 4 + 8  # name, n_dims, one dim, type, offset
_U64 = struct.Struct("<Q")


# llama.cpp's name for part N of a model split over several files (llama_split_path).
_SPLIT_RE = re.compile(r"^(?P<stem>.+)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")


def split_parts(name: str) -> list[str]:
    """Every file of the model whose (first) file is ``name``, in order: ``name`` alone unless it is
    part 1 of a split model (``…-00001-of-00003.gguf``). Works on bare names and paths alike."""
    m = _SPLIT_RE.match(name)
    if not m or int(m["no"]) != 1 or int(m["count"]) < 2:
        return [name]
    count = int(m["count"])
    return [f"{m['stem']}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]


def is_later_part(name: str) -> bool:
    """Part 2 or later of a split model: loaded through part 1, never on its own."""
    m = _SPLIT_RE.match(name)
    return m is not None and int(m["no"]) > 1


class GGUFError(HearthError, ValueError):
    """The file is not a GGUF that Hearth can use; the message says why in one line."""


@dataclass(frozen=True)
class ArraySummary:
    """A long array from the header: its element type and length, without its elements."""

    element_type: str
    length: int
    # For an array of strings: a digest of its first ``head`` elements, the largest power of two it
    # holds (two vocabularies that differ only in the pad tokens at their end share it). "" when the
    # bytes were not all at hand.
    head_digest: str = ""


@dataclass
class HeaderBudget:
    """What is left for the headers of one model: every part of a split model reads against the same
    budget, so splitting a hostile header over many files buys it nothing. A header that parses spends
    from it; one that fails, or needs more bytes than were read, spends nothing."""

    bytes: int = MAX_HEADER_BYTES
    values: int = MAX_KEPT_VALUES
    strings: int = MAX_SKIPPED_STRINGS


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: GGMLQuantizationType
    offset: int
    nbytes: int

    @property
    def type_name(self) -> str:
        return self.ggml_type.name


@dataclass(frozen=True)
class GGUFHeader:
    path: str
    file_size: int
    version: int
    alignment: int
    data_offset: int
    metadata: dict[str, Any] = field(repr=False)
    tensors: tuple[TensorInfo, ...] = field(repr=False)

    @property
    def tensor_data_bytes(self) -> int:
        """Bytes of all tensors, without the alignment padding between them."""
        return sum(t.nbytes for t in self.tensors)


class NeedMoreBytes(GGUFError):
    """The buffer holds only the start of the file and the header goes on past it."""

    def __init__(self, needed: int) -> None:
        super().__init__(f"the header goes on past the first {needed} bytes read")
        self.needed = needed


class _Cursor:
    def __init__(
        self, buf: mmap.mmap | bytes, size: int, available: int | None, budget: HeaderBudget
    ) -> None:
        self._buf = buf
        self.size = size  # of the whole file: what sanity checks measure against
        self.available = size if available is None else available  # of the buffer
        self.pos = 0
        # Drawn from the model's budget as the header is read, given back to it only once it parses.
        self.limit = budget.bytes
        self.values = budget.values
        self.strings = budget.strings

    def need(self, end: int) -> None:
        if end > self.available:
            raise NeedMoreBytes(end)

    @property
    def remaining(self) -> int:
        return self.size - self.pos

    def _within(self, end: int) -> None:
        # Checked before NeedMoreBytes: a header past the budget is refused, never fetched further.
        if end > self.limit:
            others = " with the headers of the model's other parts" if self.limit < MAX_HEADER_BYTES else ""
            raise GGUFError(
                f"the header is larger than {human_size(self.limit)}{others}, more than any model's "
                "header: it was not read"
            )

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.remaining:
            raise GGUFError(
                f"truncated header: {what} needs {n} bytes at offset {self.pos}, only {self.remaining} left"
            )
        self._within(self.pos + n)
        self.need(self.pos + n)
        out = self._buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(out)

    def skip(self, n: int, what: str) -> None:
        """Step over ``n`` bytes without reading them (whether they arrived is checked at the end)."""
        if n < 0 or n > self.remaining:
            raise GGUFError(
                f"truncated header: {what} needs {n} bytes at offset {self.pos}, only {self.remaining} left"
            )
        self._within(self.pos + n)
        self.pos += n

    def keep(self, n: int) -> bool:
        """Whether ``n`` more values fit in the budget (and, if so, take them)."""
        if n > self.values:
            return False
        self.values -= n
        return True

    def scalar(self, fmt: str, size: int, what: str) -> Any:
        return struct.unpack(fmt, self.take(size, what))[0]

    def u32(self, what: str) -> int:
        return int(self.scalar("<I", 4, what))

    def u64(self, what: str) -> int:
        return int(self.scalar("<Q", 8, what))

    def string(self, what: str) -> str:
        n = self.u64(f"length of {what}")
        if n > self.remaining:
            raise GGUFError(f"absurd length {n} for {what} at offset {self.pos - 8}")
        raw = self.take(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GGUFError(f"{what} at offset {self.pos - n} is not valid UTF-8") from exc

    def skip_strings(self, count: int, what: str) -> None:
        """Step over ``count`` strings without decoding them (a vocabulary that is summarised)."""
        if count > self.strings:
            raise GGUFError(
                f"{what} holds {count} strings, more than any model's vocabulary "
                f"(at most {MAX_SKIPPED_STRINGS} are read in a model's headers)"
            )
        self.strings -= count
        # One step per string, so the loop is kept tight: no copies, no decoding.
        buf, pos, unpack = self._buf, self.pos, _U64.unpack_from
        end = min(self.size, self.limit, self.available)
        for _ in range(count):
            if pos + 8 > end:
                self.pos = pos
                self.u64(f"length of {what}")  # raises: truncated, past the budget, or not yet arrived
            (n,) = unpack(buf, pos)
            pos += 8
            if pos + n > end:
                self.pos = pos
                if n > self.remaining:
                    raise GGUFError(f"absurd length {n} for {what} at offset {pos - 8}")
                # Raises past the budget; else the string runs past what arrived, and the next length
                # read (or the check at the end of the header) asks for more bytes.
                self.skip(n, what)
                pos = self.pos
                continue
            pos += n
        self.pos = pos


def _value_type(raw: int, key: str) -> GGUFValueType:
    try:
        return GGUFValueType(raw)
    except ValueError:
        raise GGUFError(f"unknown value type {raw} for key '{key}'") from None


def _read_value(cur: _Cursor, vtype: GGUFValueType, key: str) -> Any:
    if vtype in _SCALARS:
        fmt, size = _SCALARS[vtype]
        return cur.scalar(fmt, size, f"value of '{key}'")
    if vtype == GGUFValueType.STRING:
        return cur.string(f"value of '{key}'")
    etype = _value_type(cur.u32(f"array type of '{key}'"), key)
    if etype == GGUFValueType.ARRAY:
        # llama.cpp refuses arrays of arrays (gguf.cpp: "invalid GGUF type"), so such a file never loads;
        # reading one would build an object for every element of every inner array.
        raise GGUFError(f"'{key}' is an array of arrays, which llama.cpp does not load")
    count = cur.u64(f"array length of '{key}'")
    min_size = _SCALARS[etype][1] if etype in _SCALARS else _MIN_STRING
    if count * min_size > cur.remaining:
        raise GGUFError(f"absurd array length {count} for '{key}' ({cur.remaining} bytes left in file)")
    if count > MAX_KEPT_ARRAY or not cur.keep(count):
        if etype == GGUFValueType.STRING:
            return _skip_and_digest(cur, count, key)
        else:
            cur.skip(count * min_size, f"'{key}'")
        return ArraySummary(etype.name, count)
    if etype in _SCALARS:
        code, size = _SCALARS[etype]
        return list(struct.unpack(f"<{count}{code[1:]}", cur.take(count * size, f"'{key}'")))
    return [cur.string(f"element of '{key}'") for _ in range(count)]


def _skip_and_digest(cur: _Cursor, count: int, key: str) -> ArraySummary:
    head = 1 << (count.bit_length() - 1) if count else 0
    start = cur.pos
    cur.skip_strings(head, f"'{key}'")
    end = cur.pos
    cur.skip_strings(count - head, f"'{key}'")
    digest = ""
    if end <= min(cur.size, cur.available):
        digest = hashlib.blake2b(memoryview(cur._buf)[start:end], digest_size=16).hexdigest()
    return ArraySummary(GGUFValueType.STRING.name, count, digest)


def _read_tensor_info(cur: _Cursor, index: int) -> tuple[str, tuple[int, ...], GGMLQuantizationType, int]:
    name = cur.string(f"name of tensor {index}")
    n_dims = cur.u32(f"dimension count of tensor '{name}'")
    if not 1 <= n_dims <= MAX_DIMS:
        raise GGUFError(f"tensor '{name}' has {n_dims} dimensions (1 to {MAX_DIMS} allowed)")
    shape = tuple(cur.u64(f"shape of tensor '{name}'") for _ in range(n_dims))
    if any(d == 0 for d in shape):
        raise GGUFError(f"tensor '{name}' has an empty dimension {list(shape)}")
    raw_type = cur.u32(f"type of tensor '{name}'")
    try:
        ttype = GGMLQuantizationType(raw_type)
    except ValueError:
        raise GGUFError(f"tensor '{name}' has unknown type {raw_type}") from None
    if ttype not in GGML_QUANT_SIZES:
        raise GGUFError(f"tensor '{name}' has unsupported type {ttype.name}")
    offset = cur.u64(f"offset of tensor '{name}'")
    return name, shape, ttype, offset


def tensor_nbytes(shape: tuple[int, ...], ttype: GGMLQuantizationType, name: str = "?") -> int:
    block, type_size = GGML_QUANT_SIZES[ttype]
    if shape[0] % block:
        raise GGUFError(
            f"tensor '{name}' row of {shape[0]} is not a multiple of the {ttype.name} block ({block})"
        )
    elements = 1
    for d in shape:
        elements *= d
    return elements // block * type_size


def parse(
    data: mmap.mmap | bytes,
    size: int,
    path: str = "<memory>",
    available: int | None = None,
    budget: HeaderBudget | None = None,
) -> GGUFHeader:
    """Parse a GGUF header from a buffer of ``size`` bytes (the whole file, mapped), or from the first
    ``available`` bytes of a file of ``size`` bytes: NeedMoreBytes then says how many the header needs.
    ``budget``: the model's, when this is one part of several (a fresh one otherwise)."""
    budget = budget if budget is not None else HeaderBudget()
    cur = _Cursor(data, size, available, budget)
    magic = cur.take(4, "magic") if size >= 4 else b""
    if magic != GGUF_MAGIC:
        raise GGUFError(f"not a GGUF file (magic {magic!r}, expected {GGUF_MAGIC!r})")
    version = cur.u32("version")
    if version not in SUPPORTED_VERSIONS:
        swapped = struct.unpack(">I", struct.pack("<I", version))[0]
        if swapped in SUPPORTED_VERSIONS:
            raise GGUFError("big-endian GGUF files are not supported")
        raise GGUFError(f"unsupported GGUF version {version} (supported: 2, 3)")
    n_tensors = cur.u64("tensor count")
    n_kv = cur.u64("metadata count")
    if n_kv * _MIN_KV > cur.remaining:
        raise GGUFError(f"absurd metadata count {n_kv} for a file of {size} bytes")
    if n_tensors * _MIN_TENSOR_INFO > cur.remaining:
        raise GGUFError(f"absurd tensor count {n_tensors} for a file of {size} bytes")
    if not cur.keep(n_kv + n_tensors):
        raise GGUFError(
            f"the header lists {n_kv} metadata keys and {n_tensors} tensors, more than any model has "
            f"(at most {MAX_KEPT_VALUES} together are read in a model's headers)"
        )

    metadata: dict[str, Any] = {}
    for i in range(n_kv):
        key = cur.string(f"key {i}")
        if key in metadata:
            raise GGUFError(f"duplicate metadata key '{key}'")
        vtype = _value_type(cur.u32(f"value type of '{key}'"), key)
        metadata[key] = _read_value(cur, vtype, key)

    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if (
        not isinstance(alignment, int)
        or isinstance(alignment, bool)
        or alignment <= 0
        or alignment & (alignment - 1)
    ):
        raise GGUFError(f"general.alignment must be a power of two, got {alignment!r}")

    raw_infos = [_read_tensor_info(cur, i) for i in range(n_tensors)]
    cur.need(cur.pos)  # a long array skipped at the very end
    header_bytes = cur.pos
    data_offset = -(-cur.pos // alignment) * alignment
    data_size = size - data_offset
    tensors: list[TensorInfo] = []
    seen: set[str] = set()
    for name, shape, ttype, offset in raw_infos:
        if name in seen:
            raise GGUFError(f"duplicate tensor name '{name}'")
        seen.add(name)
        if offset % alignment:
            raise GGUFError(f"tensor '{name}' offset {offset} is not aligned to {alignment}")
        nbytes = tensor_nbytes(shape, ttype, name)
        if offset + nbytes > data_size:
            raise GGUFError(
                f"truncated tensor data: '{name}' ends at byte {data_offset + offset + nbytes}, "
                f"file has {size}"
            )
        tensors.append(TensorInfo(name, shape, ttype, offset, nbytes))
    ordered = sorted(tensors, key=lambda t: t.offset)
    for a, b in itertools.pairwise(ordered):
        if a.offset + a.nbytes > b.offset:
            raise GGUFError(f"tensors '{a.name}' and '{b.name}' overlap in the data section")
    budget.bytes -= header_bytes
    budget.values, budget.strings = cur.values, cur.strings
    return GGUFHeader(path, size, version, alignment, data_offset, metadata, tuple(tensors))


def read_header(path: str | os.PathLike[str], budget: HeaderBudget | None = None) -> GGUFHeader:
    """Read the header and tensor table of a GGUF file; raise GGUFError with one clear line if unusable.
    ``budget``: the model's, when the file is one part of several."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise GGUFError("empty file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return parse(mm, size, str(p), budget=budget)
    except IsADirectoryError:
        raise GGUFError(f"{p} is a directory, not a GGUF file") from None
    except FileNotFoundError:
        raise GGUFError(f"{p}: no such file") from None
    except PermissionError:
        raise GGUFError(f"{p}: permission denied") from None


def read_model_headers(path: str) -> tuple[GGUFHeader, list[GGUFHeader]]:
    """The header of a model's (first) file and, when the model is split, those of its other parts, all
    read against one budget: many parts together keep no more than one model may."""
    if is_later_part(Path(path).name):
        raise GGUFError("this is a later part of a split model: open its first part (…-00001-of-…)")
    budget = HeaderBudget()
    first = read_header(path, budget)
    count = first.metadata.get("split.count", 1)
    # A split.count that is not a count is left for the profile to refuse, with the same words as always.
    if not isinstance(count, int) or isinstance(count, bool) or count <= 1:
        return first, []
    return first, [read_header(part, budget) for part in split_parts(path)[1:]]
