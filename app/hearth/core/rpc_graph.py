"""The graphs a worker computes for a host, checked as ggml would have built them (sans-I/O).

ggml's RPC server rebuilds a GRAPH_COMPUTE's tensors from what the client sent and checks each one
only against its own buffer; llama.cpp is built without ``assert``, so the CPU kernels trust that a
node's shape agrees with its sources' (a GET_ROWS whose destination is declared as 4 bytes writes
as many rows as its index source has, past the end of the buffer). A paired host may ask for any
computation, not for the worker's memory, so every graph is held here to what ggml's own
constructors make, before the server sees a byte of it:

- every tensor lies inside a buffer this connection allocated and learnt the base of, with its
  element type valid and its strides' whole reach (as any kernel may walk it) inside that buffer;
- every op is one llama.cpp's model graphs use (``CHECKS``), and each node agrees with its sources
  as that op's constructor in ggml.c, plus what its CPU kernel assumes without checking;
- the graph is no larger than a llama graph gets (``MAX_NODES``, ``MAX_TENSORS``), which bounds
  what the server allocates to rebuild it, and the work buffer the CPU backend allocates to compute
  it is bounded too (``work_bytes``, ``work_limit``).

Data-dependent indices (GET_ROWS, SET_ROWS, ADD_ID) are range-checked by the kernels themselves
(GGML_ASSERT, compiled in). MUL_MAT_ID's expert ids are not, so they must be what an ARGSORT in the
same graph wrote, over at most as many values as there are experts.

Layout as ggml-rpc.cpp's ``rpc_tensor`` (packed, little-endian) and ``serialize_graph``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hearth.core.errors import HearthError
from hearth.core.units import KIB, MIB

# id, type, buffer, ne[4], nb[4], op, op_params[16], flags, src[10], view_src, view_offs, data,
# name[64], use_count
_TENSOR = struct.Struct("<QIQ4I4II16ii10QQQQ64si")
TENSOR_SIZE = _TENSOR.size  # 296, rpc_protocol.RPC_TENSOR_SIZE
_HEAD = struct.Struct("<II")  # device, n_nodes
_U32 = struct.Struct("<I")

# The largest graph the tests' models send (SmolLM2-135M whole on one worker: 1,084 nodes, 1,421
# tensors, 429 kB) is 1/30 of these. llama.cpp sizes its own graphs for up to 8 nodes per model
# tensor (llama_context::graph_max_nodes), and the largest common models hold under 2,000 tensors,
# ~16,000 nodes at most; what they send one device per micro-batch is less. At these caps a graph
# is at most MAX_GRAPH_BYTES (18.75 MiB) on the wire, and the server's context to rebuild it
# (ggml_tensor_overhead() ≈ 368 bytes per node and tensor, plus the graph's hash set) about 40 MiB.
MAX_NODES = 32_768
MAX_TENSORS = 65_536
MAX_GRAPH_BYTES = _HEAD.size + 8 * MAX_NODES + _U32.size + TENSOR_SIZE * MAX_TENSORS
# How far back from a MUL_MAT_ID its ids' ARGSORT may be. llama.cpp's MoE feed-forward computes
# the experts a few dozen nodes after choosing them; the bound keeps the search linear in the graph.
MAX_IDS_DISTANCE = 256

GGML_MAX_DIMS = 4
GGML_MAX_SRC = 10
GGML_TENSOR_FLAG_COMPUTE = 16  # ggml.h: nodes without it are skipped by the CPU backend
GGML_PREC_DEFAULT, GGML_PREC_F32 = 0, 10
# ggml_mul_mat's op_params[1]: the first source is a Hadamard matrix (ggml.h, enum ggml_op_hint).
GGML_HINT_SRC0_IS_HADAMARD = 1
GGML_ROPE_TYPE_NEOX, GGML_ROPE_TYPE_MROPE, GGML_ROPE_TYPE_VISION, GGML_ROPE_TYPE_IMROPE = 2, 8, 24, 40
# The rope modes ggml.h defines (NORMAL is 0); the CPU kernel aborts on any other.
_ROPE_MODES = frozenset(
    {0, GGML_ROPE_TYPE_NEOX, GGML_ROPE_TYPE_MROPE, GGML_ROPE_TYPE_VISION, GGML_ROPE_TYPE_IMROPE}
)
_I64_MAX = (1 << 63) - 1


class RpcViolation(HearthError):
    """The client broke the donation's rules; the connection must end."""


@dataclass(frozen=True)
class TypeInfo:
    """One of ggml's element types as this build defines it."""

    name: str
    size: int  # bytes per block
    block: int  # elements per block


@dataclass(frozen=True)
class GraphRules:
    """What this build's graphs may hold: built from ggml's own tables by ``engine.rpc.graph_rules``."""

    op_names: tuple[str, ...]  # by enum value, every op of this build (for messages)
    checks: Mapping[int, Callable[[Graph, Tensor], None]]  # the allowed ops, by enum value
    types: Mapping[int, TypeInfo]  # every usable element type, by enum value
    unary_ops: frozenset[int]  # the UNARY kinds allowed
    glu_ops: frozenset[int]  # the GLU kinds allowed
    type_ids: Mapping[str, int]  # type name -> enum value

    @classmethod
    def build(
        cls,
        op_names: Sequence[str],
        types: Sequence[TypeInfo | None],
        unary_names: Sequence[str],
        glu_names: Sequence[str],
    ) -> GraphRules:
        """From ggml's op table, its type table (None where a type was removed) and its UNARY and
        GLU kinds, all by enum value. Raises ValueError where a name the checks need is missing,
        since the checks would then be for another build."""
        missing = sorted(
            [f"op {n}" for n in CHECKS if n not in op_names]
            + [f"unary {n}" for n in ALLOWED_UNARY if n not in unary_names]
            + [f"glu {n}" for n in ALLOWED_GLU if n not in glu_names]
        )
        known = {t.name for t in types if t is not None}
        missing += [f"type {n}" for n in _NEEDED_TYPES if n not in known]
        if missing:
            raise ValueError(f"this ggml build lacks {', '.join(missing)}; the graph checks would be wrong")
        return cls(
            op_names=tuple(op_names),
            checks={i: CHECKS[n] for i, n in enumerate(op_names) if n in CHECKS},
            types={i: t for i, t in enumerate(types) if t is not None and t.size > 0 and t.block > 0},
            unary_ops=frozenset(i for i, n in enumerate(unary_names) if n in ALLOWED_UNARY),
            glu_ops=frozenset(i for i, n in enumerate(glu_names) if n in ALLOWED_GLU),
            type_ids={t.name: i for i, t in enumerate(types) if t is not None},
        )

    def op_name(self, op: int) -> str:
        return self.op_names[op] if op < len(self.op_names) else f"#{op}"


class Tensor:
    """One ``rpc_tensor`` as sent, with the byte range it may reach."""

    __slots__ = (
        "buffer",
        "data",
        "end",
        "flags",
        "id",
        "info",
        "nb",
        "ne",
        "op",
        "params",
        "src",
        "type",
        "view_offs",
        "view_src",
    )

    def __init__(self, f: tuple[Any, ...]) -> None:
        self.id: int = f[0]
        self.type: int = f[1]
        self.buffer: int = f[2]
        self.ne: tuple[int, ...] = f[3:7]
        self.nb: tuple[int, ...] = f[7:11]
        self.op: int = f[11]
        self.params: tuple[int, ...] = f[12:28]
        self.flags: int = f[28]
        self.src: tuple[int, ...] = f[29:39]
        self.view_src: int = f[39]
        self.view_offs: int = f[40]
        self.data: int = f[41]  # then the name and use_count, which ggml only labels and counts with
        self.info: TypeInfo = _NO_TYPE
        self.end = 0  # the first byte past what kernels may reach

    def nelements(self) -> int:
        ne0, ne1, ne2, ne3 = self.ne
        return ne0 * ne1 * ne2 * ne3

    def describe(self) -> str:
        return f"tensor {self.id} ({self.info.name} {'x'.join(map(str, self.ne))})"


_NO_TYPE = TypeInfo("?", 0, 0)


def _reach(t: Tensor) -> int:
    """Bytes from ``t.data`` that a kernel may touch: the furthest element by its strides, a row
    read as contiguous from each row's start, or the whole tensor read as dense, whichever is
    furthest; every kernel walks a tensor in one of these ways."""
    ne0, ne1, ne2, ne3 = t.ne
    if not (ne0 and ne1 and ne2 and ne3):
        return 0
    nb0, nb1, nb2, nb3 = t.nb
    size, block = t.info.size, t.info.block
    blocks = ne0 // block
    row = size * blocks
    rest = (ne1 - 1) * nb1 + (ne2 - 1) * nb2 + (ne3 - 1) * nb3
    return max((blocks - 1) * nb0 + size + rest, row + rest, row * ne1 * ne2 * ne3)


class Graph:
    """One GRAPH_COMPUTE: its tensors by id and its nodes in the order they are computed."""

    def __init__(self, rules: GraphRules, tensors: dict[int, Tensor], nodes: list[Tensor]) -> None:
        self.rules = rules
        self.tensors = tensors
        self.nodes = nodes
        self.index = 0  # of the node being checked
        types = rules.type_ids
        self.f32, self.f16, self.bf16 = types["f32"], types["f16"], types["bf16"]
        self.i32, self.i64 = types["i32"], types["i64"]
        self.cache_types = frozenset(types[n] for n in _CACHE_TYPES if n in types)

    def src(self, t: Tensor, i: int) -> Tensor:
        found = self.opt(t, i)
        if found is None:
            raise RpcViolation(f"{self._op(t)} node {t.id} lacks its source {i}")
        return found

    def opt(self, t: Tensor, i: int) -> Tensor | None:
        sid = t.src[i]
        return self.tensors[sid] if sid else None

    def need(self, ok: bool, t: Tensor, what: str) -> None:
        if not ok:
            raise RpcViolation(f"{self._op(t)} node {t.describe()}: {what}, which ggml would not build")

    def _op(self, t: Tensor) -> str:
        return self.rules.op_name(t.op)


def check_graph(
    payload: bytes,
    rules: GraphRules,
    buffers: Mapping[int, tuple[int, int]],
    max_work: int | None = None,
    threads: int = 1,
) -> Graph:
    """Check one GRAPH_COMPUTE payload and return it. ``buffers`` maps each buffer
    handle this connection may use to its (base, size) on the worker; ``max_work``, when given, is
    the most the worker's work buffer may be for it, computing on ``threads`` threads. Raises
    RpcViolation."""
    if len(payload) < _HEAD.size + _U32.size:
        raise RpcViolation("malformed GRAPH_COMPUTE")
    _device, n_nodes = _HEAD.unpack_from(payload, 0)
    if n_nodes > MAX_NODES:
        raise RpcViolation(f"a graph of {n_nodes} nodes (at most {MAX_NODES})")
    at = _HEAD.size + 8 * n_nodes
    if len(payload) < at + _U32.size:
        raise RpcViolation("malformed GRAPH_COMPUTE")
    (n_tensors,) = _U32.unpack_from(payload, at)
    if n_tensors > MAX_TENSORS:
        raise RpcViolation(f"a graph of {n_tensors} tensors (at most {MAX_TENSORS})")
    at += _U32.size
    if len(payload) != at + n_tensors * TENSOR_SIZE:
        raise RpcViolation("malformed GRAPH_COMPUTE: its length does not match its counts")

    tensors: dict[int, Tensor] = {}
    for fields in _TENSOR.iter_unpack(memoryview(payload)[at:]):
        t = Tensor(fields)
        if t.id == 0 or t.id in tensors:
            raise RpcViolation(f"a graph with tensor id {t.id} {'twice' if t.id else ''}".rstrip())
        _check_tensor(t, rules, buffers)
        tensors[t.id] = t
    for t in tensors.values():
        for sid in (*t.src, t.view_src):
            if sid and sid not in tensors:
                raise RpcViolation(f"tensor {t.id} refers to tensor {sid}, which the graph lacks")
        if t.view_src:
            _check_view(t, tensors[t.view_src])

    node_ids = struct.unpack_from(f"<{n_nodes}Q", payload, _HEAD.size)
    nodes = []
    for nid in node_ids:
        node = tensors.get(nid)
        if node is None:
            raise RpcViolation(f"a graph node ({nid}) that is not among its tensors")
        nodes.append(node)
    graph = Graph(rules, tensors, nodes)
    for i, node in enumerate(nodes):
        graph.index = i
        rules.checks[node.op](graph, node)
    if max_work is not None:
        work = work_bytes(graph, threads)
        if work > max_work:
            raise RpcViolation(
                f"a graph whose work buffer could take {work // MIB} MiB of the worker's memory "
                f"(at most {max_work // MIB} MiB)"
            )
    return graph


# --- the CPU backend's work buffer ---
# ggml-cpu's ggml_graph_plan sizes one scratch buffer for a graph, as large as its largest node
# needs, and the backend allocates it with new[] outside every buffer the ledger counts and keeps it
# for later graphs (it only grows). A graph's shapes alone would let a host make it as large as it
# likes: a MUL_MAT converts its second source to the first's dot-product type (4 bytes a value from
# a 1.56-bit source is 20 times that source), and MUL_MAT_ID's row map is experts times ids. So each
# graph's is bounded here, sized as ggml_graph_plan sizes it, every "maybe" counted.
_CACHE_LINE = 256  # ggml-cpu's CACHE_LINE_SIZE, at its largest (s390x)
_TILED_SLOT = 512 * KIB  # the tiled matmul's scratch per thread (tiled.cpp), where it is enabled
_FA_TILE = 64  # flash attention's query and key tiles (ggml-cpu/common.h)
_MMID_ROW = 8  # struct mmid_row_mapping: two int32
# Per thread, what llama.cpp's graphs need besides the conversion: the tiled slot, flash attention's
# tiles (0.6 MiB for 576-wide heads), a ROPE or SOFT_MAX row in F32 (4 MiB for a million-cell cache).
WORK_PER_THREAD = 6 * MIB


def work_limit(donation: int, threads: int) -> int:
    """The largest work buffer a graph may make a worker on ``threads`` threads allocate: half the
    donation, plus ``WORK_PER_THREAD`` a thread. llama.cpp's graphs multiply F32 second sources,
    converted to F16/BF16 (2 bytes a value) or an 8-bit quant (about 1.1): at most half the bytes of
    a tensor the donation already holds. Hostile shapes get refused; the worker stays within 1.5
    times the donation and a few MiB a thread."""
    return donation // 2 + threads * WORK_PER_THREAD


def work_bytes(g: Graph, threads: int) -> int:
    """At least what ggml_graph_plan (ggml-cpu.c) makes the work buffer for this graph on ``threads``
    threads, counting the repacked and AMX weights' needs (repack.cpp, amx/mmq.cpp) and the tiled
    matmul's."""
    worst = max((_node_work(g, node, threads) for node in g.nodes), default=0)
    return worst + _CACHE_LINE * threads if worst else 0


def _q8_bytes(n: int) -> int:
    """``n`` values as the widest 8-bit dot-product type: Q8_K (292 bytes a 256) or Q8_1 (36 a 32)."""
    return max(-(-n // 256) * 292, -(-n // 32) * 36)


def _converted(g: Graph, a: Tensor, b: Tensor) -> int:
    """b converted to a's dot-product type (type_traits_cpu's vec_dot_type): an 8-bit quant for every
    quantized type, F16 or BF16 for those, F32 for the rest; nothing when b is that type already."""
    n = b.nelements()
    if a.info.block > 1:
        return _q8_bytes(n)
    if a.type in (g.f16, g.bf16):
        return 0 if b.type == a.type else 2 * n
    return 0 if b.type == g.f32 else 4 * n


def _pad64(n: int) -> int:
    return -(-n // 64) * 64


def _node_work(g: Graph, t: Tensor, threads: int) -> int:
    op = g.rules.op_name(t.op)
    row = 4 * t.ne[0]  # one F32 row of the result
    if op == "MUL_MAT":
        return _pad64(_converted(g, g.src(t, 0), g.src(t, 1))) + 64 + threads * _TILED_SLOT
    if op == "MUL_MAT_ID":
        a, b, ids = g.src(t, 0), g.src(t, 1), g.src(t, 2)
        experts = a.ne[2]
        cpu = (
            _converted(g, a, b)
            + 8 * (experts + 4)  # the counts of rows per expert, and padding
            + _MMID_ROW * experts * ids.ne[0] * ids.ne[1]
            + _CACHE_LINE * (experts + 1)
        )
        repacked = _q8_bytes(b.nelements()) + 8 + 8 * experts * (b.ne[2] + 1)
        return _pad64(max(cpu, repacked)) + 64 + threads * _TILED_SLOT
    if op == "FLASH_ATTN_EXT":
        q, k, v = g.src(t, 0), g.src(t, 1), g.src(t, 2)
        dk, dv = k.ne[0], v.ne[0]
        tile = _FA_TILE * dk + 2 * _FA_TILE * _FA_TILE + _FA_TILE * dv + _FA_TILE * dv + _FA_TILE * dk
        decode = q.ne[2] * threads * (2 + dv) + threads * (dk + 2 * dv)
        return 4 * max(tile * threads, decode)
    if op == "SOFT_MAX":
        a = g.src(t, 0)
        return row * min(threads, a.ne[1] * a.ne[2] * a.ne[3])
    if op == "ROPE":
        return row * threads
    if op == "CPY":
        a, b = g.src(t, 0), g.src(t, 1)
        via_f32 = {(g.f16, g.bf16), (g.bf16, g.f16), (g.f32, g.i32), (g.i32, g.f32)}
        return row * threads if t.info.block > 1 or (a.type, b.type) in via_f32 else 0
    if op in ("ADD", "ADD_ID"):
        a = g.src(t, 0)
        return 4 * a.ne[0] * threads if a.info.block > 1 else 0
    if op == "SET_ROWS":
        rows = g.src(t, 0)
        return 4 * rows.ne[0] if rows.type == g.f16 and t.type != g.f16 else 0  # one task
    return 0


def _check_tensor(t: Tensor, rules: GraphRules, buffers: Mapping[int, tuple[int, int]]) -> None:
    if t.op not in rules.checks:
        raise RpcViolation(f"graph uses op {t.op} ({rules.op_name(t.op)}), which llama.cpp's graphs do not")
    info = rules.types.get(t.type)
    if info is None:
        raise RpcViolation(f"tensor {t.id} has element type {t.type}, which this ggml lacks")
    t.info = info
    if t.ne[0] % info.block:
        raise RpcViolation(f"{t.describe()}: rows of a partial {info.name} block")
    if info.block > 1 and t.nb[0] != info.size:
        raise RpcViolation(f"{t.describe()}: {info.name} blocks {t.nb[0]} bytes apart")
    if t.nelements() > _I64_MAX:
        raise RpcViolation(f"{t.describe()}: more elements than ggml counts")
    span = buffers.get(t.buffer)
    if span is None:
        # The server would run such a tensor with a null or foreign data pointer.
        raise RpcViolation(f"{t.describe()} is in no buffer this connection allocated and located")
    base, size = span
    t.end = t.data + _reach(t)
    if t.data < base or t.end > base + size:
        raise RpcViolation(
            f"{t.describe()} reaches bytes {t.data - base}..{t.end - base} of a {size}-byte buffer"
        )


def _check_view(t: Tensor, source: Tensor) -> None:
    # The server takes a view's data pointer as sent; ggml makes it its source's plus the offset.
    if t.buffer != source.buffer or t.data != source.data + t.view_offs:
        raise RpcViolation(f"view {t.describe()} does not start where its source says")
    if t.data < source.data or t.end > source.end:
        raise RpcViolation(f"view {t.describe()} reaches past its source {source.describe()}")


# --- shapes, as ggml.c's helpers ---


def _empty(t: Tensor) -> bool:
    return 0 in t.ne


def _can_repeat(small: Tensor, big: Tensor) -> bool:
    """ggml_can_repeat(small, big): big is small tiled a whole number of times along every dim."""
    if _empty(small):
        return _empty(big)
    return all(b % s == 0 for s, b in zip(small.ne, big.ne, strict=True))


def _divides(part: int, whole: int) -> bool:
    return part != 0 and whole % part == 0


def _contiguous(t: Tensor, m: int = 0) -> bool:
    """ggml_is_contiguous_m_n(t, m, 4): dims after ``m`` packed; m=0 is ggml_is_contiguous."""
    size, block = t.info.size, t.info.block
    if t.ne[0] != block and t.nb[0] != size:
        return False
    next_nb = size * (t.ne[0] // block)
    for i in range(1, GGML_MAX_DIMS):
        if i > m:
            if t.ne[i] != 1 and t.nb[i] != next_nb:
                return False
            next_nb *= t.ne[i]
        else:
            next_nb = t.ne[i] * t.nb[i]
    return True


def _rows_contiguous(t: Tensor) -> bool:
    """ggml_is_contiguous_rows."""
    return t.ne[0] == t.info.block or t.nb[0] == t.info.size


def _f32(bits: int) -> float:
    value: float = struct.unpack("<f", struct.pack("<i", bits))[0]
    return value


def _unused(g: Graph, t: Tensor, first: int) -> None:
    g.need(not any(t.src[first:]), t, "more sources than it takes")


def _same(g: Graph, t: Tensor, a: Tensor) -> None:
    """The result is a copy of ``a``'s shape and type: ggml_dup_tensor / ggml_view_tensor."""
    g.need(t.ne == a.ne, t, f"a shape other than its source's {a.ne}")
    g.need(t.type == a.type, t, "a type other than its source's")


# --- the ops llama.cpp's model graphs use, each as its constructor in ggml.c builds it ---
# Views compute nothing (the CPU backend skips them); what they reach is checked per tensor.


def _none(g: Graph, t: Tensor) -> None:
    # A leaf listed as a node: nothing to compute.
    _unused(g, t, 0)


def _view(g: Graph, t: Tensor) -> None:
    # VIEW, RESHAPE, PERMUTE, TRANSPOSE: the same elements, seen differently.
    a = g.src(t, 0)
    _unused(g, t, 1)
    g.need(t.view_src != 0, t, "no view source")
    g.need(t.type == a.type, t, "a type other than its source's")


def _reshape(g: Graph, t: Tensor) -> None:
    _view(g, t)
    g.need(t.nelements() == g.src(t, 0).nelements(), t, "another element count than its source")


def _permute(g: Graph, t: Tensor) -> None:
    _view(g, t)
    g.need(sorted(t.ne) == sorted(g.src(t, 0).ne), t, "dims that are not its source's, reordered")


def _binary(g: Graph, t: Tensor) -> None:
    # ADD, MUL, DIV (ggml_add_impl and its kin): b is broadcast over a.
    a, b = g.src(t, 0), g.src(t, 1)
    _unused(g, t, 2)
    g.need(_can_repeat(b, a), t, "a second source that does not tile the first")
    _same(g, t, a)
    _result(g, t, a)


def _add_id(g: Graph, t: Tensor) -> None:
    # gpt-oss's expert biases: row ids[i, j] of b added to a[:, i, j].
    a, b, ids = g.src(t, 0), g.src(t, 1), g.src(t, 2)
    _unused(g, t, 3)
    g.need(a.ne[0] == b.ne[0] and a.ne[1] == ids.ne[0] and a.ne[2] == ids.ne[1], t, "mismatched ids")
    g.need(ids.type == g.i32, t, "non-I32 ids")
    _same(g, t, a)
    _result(g, t)


def _unary_shape(g: Graph, t: Tensor) -> Tensor:
    a = g.src(t, 0)
    _unused(g, t, 1)
    _same(g, t, a)
    return a


def _packed(t: Tensor) -> bool:
    """Exactly ggml's own strides for its shape. Stricter than ggml_is_contiguous, which ignores the
    stride of a dimension of size 1: kernels that walk rows flattened step by nb1 over every row, so a
    large nb1 on a one-row dimension is a write no reach check sees."""
    if t.info.block <= 0 or t.ne[0] % t.info.block:
        return False
    nb0 = t.info.size
    nb1 = nb0 * (t.ne[0] // t.info.block)
    return t.nb == (nb0, nb1, nb1 * t.ne[1], nb1 * t.ne[1] * t.ne[2])


def _fresh(t: Tensor) -> bool:
    """A result as ggml_new_tensor makes it: packed and its own. Kernels step through a result by its
    strides but size their work from its shape, so any other layout is a write the checks never saw."""
    return t.view_src == 0 and _packed(t)


def _result(g: Graph, t: Tensor, a: Tensor | None = None) -> None:
    """The result is what its constructor makes: a new tensor (``_fresh``) or, for the ops that have
    an in-place form (``a`` given), ggml_view_tensor(a), which takes a's data and strides."""
    in_place = a is not None and t.view_src != 0 and t.data == a.data and t.nb == a.nb
    g.need(
        _fresh(t) or in_place, t, "a result laid out unlike a new tensor" + (" or its source" if a else "")
    )


def _elementwise(g: Graph, t: Tensor) -> None:
    # CLAMP, NORM, RMS_NORM: the result has its source's shape; a new packed tensor, or (CLAMP, in
    # place) the source itself, walked by the source's own strides.
    a = _unary_shape(g, t)
    in_place = t.data == a.data and t.nb == a.nb and _packed(a)
    g.need(_fresh(t) or in_place, t, "a result laid out unlike a new tensor or its source")


def _scale(g: Graph, t: Tensor) -> None:
    a = _unary_shape(g, t)
    padded = a.nb[0] == a.info.size and a.nb[2] == a.nb[1] * a.ne[1] and a.nb[3] == a.nb[2] * a.ne[2]
    g.need(padded, t, "a source that is not padded 1-d")
    # The kernel walks every row of the result (and, with a bias, of the source) flattened, by the
    # result's nb1; ggml_is_contiguous, all it asserts, ignores the stride of a one-row dimension.
    _result(g, t, a)


def _unary(g: Graph, t: Tensor) -> None:
    a = _unary_shape(g, t)
    g.need(t.params[0] in g.rules.unary_ops, t, f"unary kind {t.params[0]}")
    g.need(_rows_contiguous(a), t, "a source with gaps in its rows")
    _result(g, t, a)


def _glu(g: Graph, t: Tensor) -> None:
    # A gated unit: a's halves, or a against b.
    a, b = g.src(t, 0), g.opt(t, 1)
    _unused(g, t, 2)
    g.need(t.params[0] in g.rules.glu_ops, t, f"GLU kind {t.params[0]}")
    g.need(t.params[1] in (0, 1), t, "a swap flag that is neither 0 nor 1")
    g.need(_contiguous(a, 1), t, "a first source with gaps in its rows")
    if b is not None:
        g.need(_contiguous(b, 1) and b.ne == a.ne and b.type == a.type, t, "a second source unlike the first")
        shape = a.ne
    else:
        shape = (a.ne[0] // 2, *a.ne[1:])
    g.need(t.ne == shape, t, f"a shape other than {shape}")
    g.need(t.type == a.type, t, "a type other than its source's")
    _result(g, t)


def _sum_rows(g: Graph, t: Tensor) -> None:
    a = g.src(t, 0)
    _unused(g, t, 1)
    g.need(t.ne == (1, *a.ne[1:]), t, "a shape other than one sum per row")
    g.need(t.type == a.type, t, "a type other than its source's")
    _result(g, t)


def _repeat(g: Graph, t: Tensor) -> None:
    a = g.src(t, 0)
    _unused(g, t, 1)
    g.need(_empty(a) or all(r % s == 0 for s, r in zip(a.ne, t.ne, strict=True)), t, "a partial repeat")
    g.need(t.type == a.type, t, "a type other than its source's")
    _result(g, t)


def _concat(g: Graph, t: Tensor) -> None:
    a, b = g.src(t, 0), g.src(t, 1)
    _unused(g, t, 2)
    dim = t.params[0]
    g.need(0 <= dim < GGML_MAX_DIMS, t, f"dimension {dim}")
    g.need(a.type == b.type == t.type, t, "mixed types")
    shape = tuple(a.ne[d] + b.ne[d] if d == dim else a.ne[d] for d in range(GGML_MAX_DIMS))
    same = all(a.ne[d] == b.ne[d] for d in range(GGML_MAX_DIMS) if d != dim)
    g.need(same and t.ne == shape, t, f"a shape other than {shape}")
    _result(g, t)


def _cont(g: Graph, t: Tensor) -> None:
    a = g.src(t, 0)
    _unused(g, t, 1)
    g.need(t.nelements() == a.nelements(), t, "another element count than its source")
    g.need(t.type == a.type, t, "a type other than its source's")
    _result(g, t)


def _cpy(g: Graph, t: Tensor) -> None:
    # ggml_cpy(a, b) is a view of b; ggml_cast(a, type) names the result itself as b.
    a, b = g.src(t, 0), g.src(t, 1)
    _unused(g, t, 2)
    g.need(t.nelements() == a.nelements(), t, "another element count than its source")
    if b is t:
        _result(g, t)
    else:
        same = b.ne == t.ne and b.type == t.type and b.data == t.data and b.nb == t.nb and t.view_src != 0
        g.need(same, t, "a destination that is not a view of its second source")


def _mul_mat(g: Graph, t: Tensor) -> None:
    a, b = g.src(t, 0), g.src(t, 1)
    _unused(g, t, 2)
    ok = a.ne[0] == b.ne[0] and _divides(a.ne[2], b.ne[2]) and _divides(a.ne[3], b.ne[3])
    g.need(ok, t, f"sources {a.ne} and {b.ne} that do not multiply")
    g.need(a.nb[0] <= a.nb[1], t, "a transposed first source")
    shape = (a.ne[1], b.ne[1], b.ne[2], b.ne[3])
    g.need(t.ne == shape, t, f"a shape other than {shape}")
    g.need(t.type == g.f32, t, "a non-F32 result")
    g.need(_fresh(t), t, "a result laid out unlike a new tensor")
    hint = t.params[1]
    if hint:
        # The Hadamard hint sends the product to a transform that writes b.ne[0] values into each
        # result row: only sound for a square power-of-two first source as wide as b.
        n = a.ne[0]
        square = hint == GGML_HINT_SRC0_IS_HADAMARD and a.ne[1] == n == b.ne[0] and n & (n - 1) == 0
        g.need(square and b.type in (g.f32, g.f16), t, f"op hint {hint} on sources {a.ne} and {b.ne}")


def _mul_mat_id(g: Graph, t: Tensor) -> None:
    # The experts' matrices as[:, :, e] for the experts ids names per token.
    a, b, ids = g.src(t, 0), g.src(t, 1), g.src(t, 2)
    _unused(g, t, 3)
    g.need(a.nb[0] <= a.nb[1], t, "transposed experts")
    g.need(ids.type == g.i32, t, "non-I32 ids")
    g.need(a.ne[3] == 1 and b.ne[3] == 1 and ids.ne[2] == 1 and ids.ne[3] == 1, t, "4-d sources")
    g.need(ids.ne[1] == b.ne[2], t, "ids for another number of tokens")
    g.need(a.ne[0] == b.ne[0], t, "experts and input of different widths")
    g.need(_divides(b.ne[1], ids.ne[0]), t, "ids that do not broadcast over the input")
    shape = (a.ne[1], ids.ne[0], b.ne[2], 1)
    g.need(t.ne == shape, t, f"a shape other than {shape}")
    g.need(t.type == g.f32, t, "a non-F32 result")
    _result(g, t)
    _check_expert_ids(g, t, ids, n_experts=a.ne[2])


def _check_expert_ids(g: Graph, t: Tensor, ids: Tensor, n_experts: int) -> None:
    """The kernel indexes its work buffer by each id unchecked, so the ids must be the output of an
    ARGSORT over at most ``n_experts`` values that this graph computes before this node and that no
    node in between overwrites: a permutation of 0..n-1 per row, read whole int32 by int32."""
    g.need(ids.data % 4 == 0 and all(nb % 4 == 0 for nb in ids.nb), t, "ids not aligned to whole int32s")
    if ids.end == ids.data:
        return  # no ids, nothing read
    for back in range(g.index - 1, max(-1, g.index - 1 - MAX_IDS_DISTANCE), -1):
        writer = g.nodes[back]
        if not _writes(g, writer) or writer.end <= ids.data or writer.data >= ids.end:
            continue
        # The last node before this one to write any byte of the ids.
        ok = (
            g.rules.op_name(writer.op) == "ARGSORT"
            and writer.data <= ids.data
            and ids.end <= writer.end
            and (ids.data - writer.data) % 4 == 0
            and g.src(writer, 0).ne[0] <= n_experts
        )
        g.need(ok, t, f"expert ids last written by {g.rules.op_name(writer.op)} node {writer.id}")
        return
    g.need(False, t, "expert ids that no ARGSORT shortly before computes")


def _writes(g: Graph, node: Tensor) -> bool:
    """Whether the CPU backend computes this node (writing its bytes): views and leaves it skips,
    and nodes without the compute flag."""
    return g.rules.op_name(node.op) not in _NO_COMPUTE and bool(node.flags & GGML_TENSOR_FLAG_COMPUTE)


def _get_rows(g: Graph, t: Tensor) -> None:
    # Rows b[i, j, k] of a[:, :, j, k].
    a, b = g.src(t, 0), g.src(t, 1)
    _unused(g, t, 2)
    g.need(b.type == g.i32, t, "non-I32 row indices")
    g.need(a.ne[2] == b.ne[1] and a.ne[3] == b.ne[2] and b.ne[3] == 1, t, "indices for other matrices")
    shape = (a.ne[0], b.ne[0], b.ne[1], b.ne[2])
    g.need(t.ne == shape, t, f"a shape other than {shape}")
    g.need(t.type == (g.i32 if a.type == g.i32 else g.f32), t, "a result of the wrong type")
    _result(g, t)


def _set_rows(g: Graph, t: Tensor) -> None:
    # Rows of b written into a at the rows c names; the result is a view of a (its third source).
    b, c, a = g.src(t, 0), g.src(t, 1), g.src(t, 2)
    _unused(g, t, 3)
    g.need(a.ne[0] == b.ne[0] and a.ne[2] == b.ne[2] and a.ne[3] == b.ne[3], t, "rows unlike the target's")
    g.need(b.ne[1] == c.ne[0], t, f"{c.ne[0]} indices for {b.ne[1]} rows")
    g.need(
        _divides(c.ne[1], b.ne[2]) and _divides(c.ne[2], b.ne[3]) and c.ne[3] == 1,
        t,
        "indices unlike the rows",
    )
    g.need(b.type in (g.f32, g.f16), t, "rows neither F32 nor F16")
    g.need(c.type in (g.i64, g.i32), t, "indices neither I64 nor I32")
    g.need(_rows_contiguous(a) and _rows_contiguous(b), t, "gaps in rows")
    g.need(t.ne == a.ne and t.nb == a.nb and t.type == a.type and t.data == a.data, t, "not its target")
    g.need(t.type in g.cache_types, t, "a target type KV caches do not have")


def _soft_max(g: Graph, t: Tensor) -> None:
    a, mask, sinks = g.src(t, 0), g.opt(t, 1), g.opt(t, 2)
    _unused(g, t, 3)
    g.need(_contiguous(a) and _contiguous(t), t, "a non-contiguous source or result")
    _same(g, t, a)
    _result(g, t, a)
    if mask is not None:
        g.need(mask.type in (g.f16, g.f32) and _contiguous(mask), t, "a mask that is not contiguous F16/F32")
        fits = mask.ne[0] == a.ne[0] and mask.ne[1] >= a.ne[1]
        g.need(
            fits and _divides(mask.ne[2], a.ne[2]) and _divides(mask.ne[3], a.ne[3]), t, "a mask unlike it"
        )
    g.need(mask is not None or _f32(t.params[1]) <= 0.0, t, "an ALiBi bias without a mask")
    if sinks is not None:
        g.need(sinks.type == g.f32 and sinks.ne[0] == a.ne[2], t, "sinks unlike its heads")


def _rope(g: Graph, t: Tensor) -> None:
    a, pos, factors = g.src(t, 0), g.src(t, 1), g.opt(t, 2)
    _unused(g, t, 3)
    n_dims, mode, sections, n_offs = t.params[1], t.params[2], t.params[11:15], t.params[15]
    g.need(mode in _ROPE_MODES, t, f"rope mode {mode}")
    # Rotated pairs are n_dims values from n_offs on, or (vision) n_dims apart across the row: the
    # CPU kernel asserts these, other backends' kernels index by them as they are.
    g.need(
        n_dims % 2 == 0 and n_offs % 2 == 0 and 0 <= n_offs <= a.ne[0] - n_dims,
        t,
        f"{n_dims} rotated from {n_offs}",
    )
    if mode == GGML_ROPE_TYPE_VISION:
        g.need(2 * n_dims == a.ne[0] and n_offs == 0, t, f"vision rope of {n_dims} in rows of {a.ne[0]}")
    if mode & GGML_ROPE_TYPE_MROPE:
        # Each rotated pair takes its position from the section its index falls in, modulo their sum;
        # the CPU kernel asserts that one of the first three (time, height, width) is not empty.
        g.need(
            min(sections) >= 0 and max(sections[:3]) > 0 and sum(sections) <= a.ne[0],
            t,
            f"rope sections {sections}",
        )
    else:
        g.need(not any(sections), t, "rope sections without multi-axis rope")
    g.need(pos.type == g.i32 and pos.ne[1:] == (1, 1, 1), t, "positions that are not an I32 vector")
    per_token = 4 if mode & GGML_ROPE_TYPE_MROPE else 1
    g.need(pos.ne[0] == a.ne[2] * per_token, t, f"{pos.ne[0]} positions for {a.ne[2]} tokens")
    if factors is not None:
        # The kernel reads a factor for every pair of the row, and a vision rope rotates them all with
        # it (ggml asks only for the rotated pairs' factors); elsewhere the pairs past n_dims go unused.
        needed = a.ne[0] if mode == GGML_ROPE_TYPE_VISION else n_dims
        g.need(factors.type == g.f32 and 2 * factors.ne[0] >= needed, t, "too few frequency factors")
    # The kernel rotates pairs and copies the tail of a row two at a time: an odd row runs past it.
    g.need(a.ne[0] % 2 == 0 and 0 <= n_dims <= a.ne[0], t, f"rows of {a.ne[0]} for {n_dims} rotated")
    _same(g, t, a)
    _result(g, t, a)


def _argsort(g: Graph, t: Tensor) -> None:
    # Each row's indices 0..n-1, sorted by the row's values (the experts a token is routed to).
    a = g.src(t, 0)
    _unused(g, t, 1)
    g.need(t.params[0] in (0, 1), t, f"sort order {t.params[0]}")
    g.need(t.ne == a.ne and t.type == g.i32, t, "a result unlike an I32 copy of its source")
    g.need(a.type == g.f32 and _contiguous(a, 1), t, "rows that are not packed F32")
    _result(g, t)


def _flash_attn_ext(g: Graph, t: Tensor) -> None:
    q, k, v, mask, sinks = g.src(t, 0), g.src(t, 1), g.src(t, 2), g.opt(t, 3), g.opt(t, 4)
    _unused(g, t, 5)
    ok = k.ne[0] == q.ne[0] and _divides(k.ne[2], q.ne[2]) and _divides(k.ne[3], q.ne[3])
    g.need(ok and q.ne[3] == k.ne[3] == v.ne[3], t, f"keys {k.ne} that do not match the queries {q.ne}")
    # What the kernel reads without checking: one value per key, queries in F32, heads that broadcast.
    g.need(v.ne[1] == k.ne[1] and _divides(v.ne[2], q.ne[2]), t, f"values {v.ne} unlike the keys {k.ne}")
    g.need(q.type == g.f32, t, "non-F32 queries")
    if mask is not None:
        g.need(mask.type == g.f16 and _contiguous(mask), t, "a mask that is not contiguous F16")
        fits = mask.ne[0] >= k.ne[1] and mask.ne[1] >= q.ne[1]
        g.need(
            fits and _divides(mask.ne[2], q.ne[2]) and _divides(mask.ne[3], q.ne[3]), t, "a mask unlike it"
        )
    g.need(mask is not None or _f32(t.params[1]) <= 0.0, t, "an ALiBi bias without a mask")
    if sinks is not None:
        g.need(sinks.type == g.f32 and sinks.ne[0] == q.ne[2], t, "sinks unlike its heads")
    g.need(t.params[3] in (GGML_PREC_DEFAULT, GGML_PREC_F32), t, f"precision {t.params[3]}")
    shape = (v.ne[0], q.ne[2], q.ne[1], q.ne[3])
    g.need(t.ne == shape, t, f"a shape other than {shape}")
    g.need(t.type == g.f32, t, "a non-F32 result")
    g.need(_fresh(t), t, "a result laid out unlike a new tensor")


# The allow-list: the ops llama.cpp's model graphs use, by ggml's names, each with its check.
# Seen in the graphs of every model the tests pool (the llama-like and MoE synthetic models, the
# Gemma-3-like wide-vocabulary one, SmolLM2), with and without flash attention:
CHECKS: dict[str, Callable[[Graph, Tensor], None]] = {
    "NONE": _none,  # leaves: weights, inputs, the KV cache
    "VIEW": _view,  # KV cache slices, heads, the experts chosen per token
    "RESHAPE": _reshape,  # heads split from and joined to rows
    "PERMUTE": _permute,  # heads moved before tokens for attention
    "GET_ROWS": _get_rows,  # the rows of the tokens wanted; MoE router weights per chosen expert
    "SET_ROWS": _set_rows,  # K and V written into their cache cells
    "ADD": _binary,  # residual connections, biases
    "MUL": _binary,  # norm weights, MoE expert weighting
    "DIV": _binary,  # MoE weights normalised by their sum
    "SCALE": _scale,  # attention scale, Gemma's embedding scale
    "CLAMP": _elementwise,  # the MoE weight sum kept from 0
    "SUM_ROWS": _sum_rows,  # the MoE weight sum
    "RMS_NORM": _elementwise,  # every llama-family norm
    "MUL_MAT": _mul_mat,  # every projection, and attention without flash attention
    "MUL_MAT_ID": _mul_mat_id,  # MoE experts
    "ARGSORT": _argsort,  # MoE routing (ggml_argsort_top_k)
    "SOFT_MAX": _soft_max,  # attention without flash attention; MoE router probabilities
    "ROPE": _rope,  # rotary positions
    "CONT": _cont,  # heads made contiguous again after attention
    "GLU": _glu,  # SwiGLU / GeGLU feed-forward (llama, Gemma)
    "FLASH_ATTN_EXT": _flash_attn_ext,  # attention with flash attention (Hearth's quantized caches)
    # Used by llama.cpp's shared graph code (llama-graph.cpp) for common architectures:
    "TRANSPOSE": _permute,  # V transposed for attention when its cache is not
    "CPY": _cpy,  # ggml_cast: K/V to F16 for flash attention without a KV cache
    "UNARY": _unary,  # activations of ungated and MoE feed-forwards (GPT-2, Phi-2, Starcoder, Falcon),
    # Grok/Gemma 2 logit softcapping (tanh), sigmoid MoE routers (DeepSeek V3, Qwen3-Next)
    "NORM": _elementwise,  # layer norm (GPT-2, Phi-2, Falcon, Starcoder, Command-R)
    "ADD_ID": _add_id,  # per-expert biases (gpt-oss)
    "CONCAT": _concat,  # DeepSeek's MLA joins rotary and non-rotary halves of Q and K
    "REPEAT": _repeat,  # DeepSeek's MLA shares one rotary K over its heads; Llama 4's MoE input
}
# The activations build_ffn, build_moe_ffn and attention softcapping use.
ALLOWED_UNARY = frozenset({"SILU", "GELU", "GELU_ERF", "GELU_QUICK", "RELU", "SIGMOID", "TANH"})
ALLOWED_GLU = frozenset({"REGLU", "GEGLU", "SWIGLU", "SWIGLU_OAI", "SWIGLU_CLAMP"})
_NO_COMPUTE = frozenset({"NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE"})  # ggml_op_is_empty
# The KV cache types llama.cpp offers (common/arg.cpp's kv_cache_types), what SET_ROWS writes to.
_CACHE_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")
_NEEDED_TYPES = ("f32", "f16", "bf16", "i32", "i64")
