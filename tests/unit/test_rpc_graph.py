"""Graphs a host sends a worker, checked as ggml would have built them: crafted GRAPH_COMPUTE frames
through the filter a donor's tunnel relays with, against this build's op and type tables."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core import rpc_graph as rg
from hearth.core.rpc_filter import INSPECTED, Ledger, RpcFilter, RpcViolation
from hearth.core.rpc_protocol import Cmd
from hearth.core.units import MIB
from hearth.engine import rpc

RULES = rpc.graph_rules()
OP = {name: i for i, name in enumerate(RULES.op_names)}
TYPE = dict(RULES.type_ids)
UNARY = {name: i for i, name in enumerate(rpc._names("ggml_unary_op_name", rpc.GGML_UNARY_OP_COUNT))}
F32, F16, I32, I64, Q8_0 = TYPE["f32"], TYPE["f16"], TYPE["i32"], TYPE["i64"], TYPE["q8_0"]
BUFFER, BASE, SIZE = 0x5000, 0x7F0000000000, 1 << 20
COMPUTE = rg.GGML_TENSOR_FLAG_COMPUTE


def cmd(code: int, payload: bytes = b"") -> bytes:
    return bytes([code]) + struct.pack("<Q", len(payload)) + payload


def reply(payload: bytes) -> bytes:
    return struct.pack("<Q", len(payload)) + payload


@dataclass
class T:
    """An rpc_tensor to send; ``at`` is its offset in the one buffer, its strides ggml's own by default."""

    id: int
    type: int
    ne: tuple[int, int, int, int]
    op: str = "NONE"
    src: tuple[int, ...] = ()
    at: int = 0
    nb: tuple[int, int, int, int] | None = None
    params: tuple[int, ...] = ()
    view_src: int = 0
    view_offs: int = 0
    flags: int = COMPUTE
    buffer: int = BUFFER

    def strides(self) -> tuple[int, int, int, int]:
        if self.nb is not None:
            return self.nb
        info = RULES.types[self.type]
        nb0 = info.size
        nb1 = nb0 * (self.ne[0] // info.block)
        nb2 = nb1 * self.ne[1]
        return (nb0, nb1, nb2, nb2 * self.ne[2])

    def pack(self) -> bytes:
        params = (*self.params, *[0] * (16 - len(self.params)))
        src = (*self.src, *[0] * (10 - len(self.src)))
        return rg._TENSOR.pack(
            self.id,
            self.type,
            self.buffer,
            *self.ne,
            *self.strides(),
            OP[self.op],
            *params,
            self.flags,
            *src,
            self.view_src,
            self.view_offs,
            BASE + self.at,
            b"t",
            1,
        )


def graph(nodes: list[int], tensors: list[T]) -> bytes:
    return (
        struct.pack("<II", 0, len(nodes))
        + b"".join(struct.pack("<Q", n) for n in nodes)
        + struct.pack("<I", len(tensors))
        + b"".join(t.pack() for t in tensors)
    )


@dataclass
class Connection:
    """A filter that has seen one buffer of SIZE bytes allocated and located, as llama.cpp does."""

    filt: RpcFilter = field(default_factory=lambda: RpcFilter(Ledger(1 << 30), RULES))

    def __post_init__(self) -> None:
        self.filt.from_client(cmd(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, SIZE)))
        self.filt.from_server(reply(struct.pack("<QQ", BUFFER, SIZE)))
        self.filt.from_client(cmd(Cmd.BUFFER_GET_BASE, struct.pack("<Q", BUFFER)))
        self.filt.from_server(reply(struct.pack("<Q", BASE)))

    def send(self, nodes: list[int], tensors: list[T]) -> bytes:
        frame = cmd(Cmd.GRAPH_COMPUTE, graph(nodes, tensors))
        to_server, to_client = self.filt.from_client(frame)
        assert to_client == b""
        return to_server


def refused(nodes: list[int], tensors: list[T], match: str) -> None:
    with pytest.raises(RpcViolation, match=match):
        Connection().send(nodes, tensors)


def get_rows(
    dst_ne: tuple[int, int, int, int], n_idx: int, dst_nb: tuple[int, int, int, int] | None = None
) -> tuple[list[int], list[T]]:
    table = T(1, F32, (64, 32, 1, 1))
    idx = T(2, I32, (n_idx, 1, 1, 1), at=16 * 1024)
    dst = T(3, F32, dst_ne, "GET_ROWS", (1, 2), at=32 * 1024, nb=dst_nb)
    return [3], [table, idx, dst]


def test_a_graph_as_ggml_builds_it_passes_unchanged() -> None:
    nodes, tensors = get_rows((64, 16, 1, 1), 16)
    frame = cmd(Cmd.GRAPH_COMPUTE, graph(nodes, tensors))
    assert Connection().send(nodes, tensors) == frame


def test_get_rows_into_a_short_destination_is_refused() -> None:
    # What reached the server before: a 4-byte destination, 16 rows of 256 bytes at 4 KiB strides.
    refused(*get_rows((1, 1, 1, 1), 16, dst_nb=(4, 4096, 4096, 4096)), match="shape other than")
    refused(*get_rows((64, 8, 1, 1), 16), match="shape other than")
    # Declared with the right shape, its rows 4 KiB apart run past the buffer.
    refused(*get_rows((64, 16, 1, 1), 16, dst_nb=(4, 4096 * 1024, 1 << 26, 1 << 26)), match="reaches")


def test_get_rows_of_the_wrong_type_is_refused() -> None:
    nodes, tensors = get_rows((64, 16, 1, 1), 16)
    tensors[2].type = F16  # the kernel writes floats: twice the bytes a half row holds
    refused(nodes, tensors, match="wrong type")
    nodes, tensors = get_rows((64, 16, 1, 1), 16)
    tensors[1].type = F32
    refused(nodes, tensors, match="non-I32")


def set_rows(
    target_ne: tuple[int, int, int, int], dst_ne: tuple[int, int, int, int] | None = None
) -> tuple[list[int], list[T]]:
    rows = T(1, F32, (64, 16, 1, 1))
    idx = T(2, I64, (16, 1, 1, 1), at=8 * 1024)
    cache = T(3, F16, target_ne, at=16 * 1024)
    dst = T(4, F16, dst_ne or target_ne, "SET_ROWS", (1, 2, 3), at=16 * 1024, view_src=3)
    return [4], [rows, idx, cache, dst]


def test_set_rows_into_a_short_destination_is_refused() -> None:
    assert Connection().send(*set_rows((64, 512, 1, 1)))
    # Rows of 64 values written into a cache whose rows hold 8.
    refused(*set_rows((8, 512, 1, 1)), match="rows unlike")
    # The result declared smaller than the cache it writes into.
    refused(*set_rows((64, 512, 1, 1), dst_ne=(64, 1, 1, 1)), match="not its target")
    # More rows than indices.
    nodes, tensors = set_rows((64, 512, 1, 1))
    tensors[1].ne = (4, 1, 1, 1)
    refused(nodes, tensors, match="4 indices for 16 rows")


def test_mul_mat_shapes_must_multiply() -> None:
    a = T(1, Q8_0, (64, 32, 1, 1))
    b = T(2, F32, (64, 4, 1, 1), at=8192)
    ok = T(3, F32, (32, 4, 1, 1), "MUL_MAT", (1, 2), at=16384)
    assert Connection().send([3], [a, b, ok])
    refused([3], [a, b, T(3, F32, (32, 40, 1, 1), "MUL_MAT", (1, 2), at=16384)], match="shape other")
    refused([3], [a, T(2, F32, (32, 4, 1, 1), at=8192), ok], match="do not multiply")


def test_results_laid_out_unlike_ggmls_are_refused() -> None:
    """Kernels size their work from a result's shape but step through it by its strides: a result
    whose rows are spread out writes where no check looked (flash attention, clamp, matmul)."""
    a = T(1, Q8_0, (64, 32, 1, 1))
    b = T(2, F32, (64, 4, 1, 1), at=8192)
    spread = (4, 1 << 18, 1 << 18, 1 << 18)
    refused([3], [a, b, T(3, F32, (32, 4, 1, 1), "MUL_MAT", (1, 2), at=16384, nb=spread)], match="laid out")
    # CLAMP: a new packed tensor or its source itself; never rows 1 MiB apart from a small buffer.
    x = T(1, F32, (16, 1, 64, 1))
    assert Connection().send([2], [x, T(2, F32, (16, 1, 64, 1), "CLAMP", (1,), at=8192)])
    assert Connection().send([2], [x, T(2, F32, (16, 1, 64, 1), "CLAMP", (1,), view_src=1)])
    wide = (4, 1 << 20, 64, 64 * 64)
    refused([2], [x, T(2, F32, (16, 1, 64, 1), "CLAMP", (1,), at=8192, nb=wide)], match="laid out")
    # Flash attention writes a packed result whatever strides it is given.
    q = T(1, F32, (64, 32, 32, 1))
    k = T(2, F16, (64, 256, 8, 1), at=1 << 19)
    v = T(3, F16, (64, 256, 8, 1), at=(1 << 19) + (1 << 18))
    params = (0, 0, 0, 0)
    fa = T(4, F32, (64, 32, 32, 1), "FLASH_ATTN_EXT", (1, 2, 3), params=params, at=0)
    wrong = (4, 4096, 4096, 4096)
    refused(
        [4],
        [q, k, v, T(4, F32, (64, 32, 32, 1), "FLASH_ATTN_EXT", (1, 2, 3), params=params, nb=wrong)],
        match="laid out",
    )
    del fa


def test_a_matmul_hint_that_would_transform_past_its_result_is_refused() -> None:
    # The Hadamard hint sends the product to a transform writing b's width into each result row.
    a = T(1, F32, (64, 1, 1, 1))
    b = T(2, F32, (64 * 256, 1, 1, 1), at=8192)
    hinted = T(
        3, F32, (1, 1, 1, 1), "MUL_MAT", (1, 2), params=(0, rg.GGML_HINT_SRC0_IS_HADAMARD), at=SIZE - 4
    )
    refused([3], [T(1, F32, (16384, 1, 1, 1)), b, hinted], match="op hint")
    square = T(1, F32, (64, 64, 1, 1))
    ok = T(3, F32, (64, 4, 1, 1), "MUL_MAT", (1, 2), params=(0, rg.GGML_HINT_SRC0_IS_HADAMARD), at=1 << 19)
    assert Connection().send([3], [square, T(2, F32, (64, 4, 1, 1), at=1 << 18), ok])
    del a


def test_rope_over_an_odd_row_is_refused() -> None:
    x = T(1, F32, (63, 4, 2, 1))
    pos = T(2, I32, (2, 1, 1, 1), at=8192)
    rope = T(3, F32, (63, 4, 2, 1), "ROPE", (1, 2), params=(0, 62, 0), at=16384)
    refused([3], [x, pos, rope], match="rows of 63")


def test_a_tensor_past_its_buffer_is_refused() -> None:
    leaf = T(1, F32, (64, 64, 1, 1), at=SIZE - 64 * 64 * 4)
    assert Connection().send([1], [leaf])
    refused([1], [T(1, F32, (64, 64, 1, 1), at=SIZE - 64 * 64 * 4 + 4)], match="reaches")
    # Strides whose product is far beyond 2^64 are not wrapped around.
    huge = T(1, F32, (2**32 - 1, 2**31 - 1, 1, 1), nb=(2**32 - 1, 2**32 - 1, 0, 0))
    refused([1], [huge], match="reaches")
    refused([1], [T(1, F32, (2**32 - 1, 2**32 - 1, 1, 1), nb=(4, 0, 0, 0))], match="more elements")
    refused([1], [T(1, F32, (4, 1, 1, 1), at=-64)], match="reaches")


def test_a_view_past_its_source_is_refused() -> None:
    src = T(1, F32, (64, 4, 1, 1))
    view = T(2, F32, (64, 2, 1, 1), "VIEW", (1,), at=512, view_src=1, view_offs=512)
    assert Connection().send([2], [src, view])
    # Inside the buffer, but past its source: ggml keeps a view within what it views.
    past = T(2, F32, (64, 2, 1, 1), "VIEW", (1,), at=768, view_src=1, view_offs=768)
    refused([2], [src, past], match="past its source")
    # A view whose data pointer is not its source's plus its offset.
    moved = T(2, F32, (64, 2, 1, 1), "VIEW", (1,), at=256, view_src=1, view_offs=512)
    refused([2], [src, moved], match="does not start")


def test_tensors_outside_this_connections_buffers_are_refused() -> None:
    refused([1], [T(1, F32, (4, 1, 1, 1), buffer=0)], match="no buffer")
    refused([1], [T(1, F32, (4, 1, 1, 1), buffer=0x9000)], match="no buffer")
    # A buffer whose base the client never asked for.
    conn = RpcFilter(Ledger(1 << 30), RULES)
    conn.from_client(cmd(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, SIZE)))
    conn.from_server(reply(struct.pack("<QQ", BUFFER, SIZE)))
    with pytest.raises(RpcViolation, match="no buffer"):
        conn.from_client(cmd(Cmd.GRAPH_COMPUTE, graph([1], [T(1, F32, (4, 1, 1, 1))])))
    # A freed buffer holds nothing any more.
    c = Connection()
    c.filt.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", BUFFER)))
    with pytest.raises(RpcViolation, match="no buffer"):
        c.send([1], [T(1, F32, (4, 1, 1, 1))])


@pytest.mark.parametrize(
    "op", ["CUSTOM", "MAP_CUSTOM1", "OPT_STEP_ADAMW", "CONV_2D", "SSM_SCAN", "SOFT_MAX_BACK"]
)
def test_ops_outside_the_allow_list_are_refused(op: str) -> None:
    refused([1], [T(1, F32, (4, 1, 1, 1), op)], match=f"op {OP[op]} \\({op}\\)")
    # Even as a tensor that is not computed, only referred to.
    refused([2], [T(1, F32, (4, 1, 1, 1), op), T(2, F32, (4, 1, 1, 1), "CONT", (1,), at=64)], match=op)


def test_unary_kinds_outside_the_allow_list_are_refused() -> None:
    a = T(1, F32, (16, 1, 1, 1))
    silu = T(2, F32, (16, 1, 1, 1), "UNARY", (1,), at=64, params=(UNARY["SILU"],))
    assert Connection().send([2], [a, silu])
    floor = T(2, F32, (16, 1, 1, 1), "UNARY", (1,), at=64, params=(UNARY["XIELU"],))
    refused([2], [a, floor], match="unary kind")


def test_graphs_over_the_caps_are_refused_on_their_declared_length() -> None:
    f = RpcFilter(Ledger(1 << 30), RULES)
    # The header alone: nothing else has arrived, nothing has been held or passed on.
    with pytest.raises(RpcViolation, match="GRAPH_COMPUTE"):
        f.from_client(bytes([Cmd.GRAPH_COMPUTE]) + struct.pack("<Q", rg.MAX_GRAPH_BYTES + 1))
    assert INSPECTED[Cmd.GRAPH_COMPUTE] == rg.MAX_GRAPH_BYTES < 20 * 2**20
    with pytest.raises(RpcViolation, match="ALLOC_BUFFER"):
        RpcFilter(Ledger(10), RULES).from_client(bytes([Cmd.ALLOC_BUFFER]) + struct.pack("<Q", 2**28))


def test_graphs_with_too_many_nodes_or_tensors_are_refused() -> None:
    many_nodes = struct.pack("<II", 0, rg.MAX_NODES + 1) + bytes(8)
    with pytest.raises(RpcViolation, match=f"{rg.MAX_NODES + 1} nodes"):
        Connection().filt.from_client(cmd(Cmd.GRAPH_COMPUTE, many_nodes))
    many_tensors = struct.pack("<III", 0, 0, rg.MAX_TENSORS + 1)
    with pytest.raises(RpcViolation, match=f"{rg.MAX_TENSORS + 1} tensors"):
        Connection().filt.from_client(cmd(Cmd.GRAPH_COMPUTE, many_tensors))
    # Counts that do not match the payload's length.
    with pytest.raises(RpcViolation, match="length"):
        Connection().filt.from_client(cmd(Cmd.GRAPH_COMPUTE, struct.pack("<III", 0, 0, 1)))


def experts(
    ids_op: str = "ARGSORT", between: list[T] | None = None, n_probs: int = 4
) -> tuple[list[int], list[T]]:
    """MUL_MAT_ID over four experts, with ids from ``ids_op``: as llama.cpp's MoE feed-forward."""
    probs = T(1, F32, (n_probs, 3, 1, 1))
    sort = T(2, I32, (n_probs, 3, 1, 1), ids_op, (1,), at=1024, params=(1,))
    if ids_op == "NONE":
        sort = T(2, I32, (n_probs, 3, 1, 1), at=1024)
    ids = T(
        3,
        I32,
        (2, 3, 1, 1),
        "VIEW",
        (2,),
        at=1024,
        nb=(4, 4 * n_probs, 12 * n_probs, 12 * n_probs),
        view_src=2,
    )
    weights = T(4, F16, (64, 32, 4, 1), at=4096)
    x = T(5, F32, (64, 1, 3, 1), at=32768)
    out = T(6, F32, (32, 2, 3, 1), "MUL_MAT_ID", (4, 5, 3), at=65536)
    middle = between or []
    tensors = [probs, sort, ids, weights, x, *middle, out]
    nodes = [2, 3, *[t.id for t in middle], 6] if ids_op != "NONE" else [3, 6]
    return nodes, tensors


def test_expert_ids_must_come_from_an_argsort_over_the_experts() -> None:
    assert Connection().send(*experts())
    # The kernel indexes by each id unchecked: ids the host wrote itself are refused.
    refused(*experts("NONE"), match="no ARGSORT")
    # An argsort over more values than there are experts yields ids past them.
    refused(*experts(n_probs=8), match="last written by ARGSORT")
    # A node between the sort and the experts that overwrites the ids.
    overwrite = T(7, I32, (2, 3, 1, 1), "CONT", (3,), at=1024)
    refused(*experts(between=[overwrite]), match="last written by CONT")
    # An argsort the backend skips (no compute flag) leaves whatever was there.
    nodes, tensors = experts()
    tensors[1].flags = 0
    refused(nodes, tensors, match="no ARGSORT")
    # Ids read across two sorted values.
    nodes, tensors = experts()
    tensors[2].at, tensors[2].view_offs = 1026, 2
    refused(nodes, tensors, match="aligned")


def test_a_set_tensor_larger_than_any_buffer_is_refused_before_it_streams() -> None:
    c = Connection()
    head = bytes([Cmd.SET_TENSOR]) + struct.pack("<Q", SIZE + 305)
    assert c.filt.from_client(head)[0] == head
    with pytest.raises(RpcViolation, match="SET_TENSOR"):
        Connection().filt.from_client(bytes([Cmd.SET_TENSOR]) + struct.pack("<Q", SIZE + 306))
    with pytest.raises(RpcViolation, match="SET_TENSOR"):
        RpcFilter(Ledger(1 << 30), RULES).from_client(bytes([Cmd.SET_TENSOR]) + struct.pack("<Q", 1 << 40))


def test_the_rules_name_a_build_that_lacks_an_op() -> None:
    names = [n if n != "GET_ROWS" else "GATHER" for n in RULES.op_names]
    with pytest.raises(ValueError, match="op GET_ROWS"):
        rg.GraphRules.build(names, rpc._types(), [], [])


# --- results as their constructors make them ---

GLU = {name: i for i, name in enumerate(rpc._names("ggml_glu_op_name", rpc.GGML_GLU_OP_COUNT))}
R = 1 << 19  # where each case's result goes
IN_PLACE = {"ADD", "MUL", "DIV", "SCALE", "UNARY", "SOFT_MAX", "ROPE"}  # ops with an _inplace form


def made_new(op: str) -> tuple[list[int], list[T]]:
    """A small graph whose last tensor is an ``op`` node as ggml builds it; its first is its source."""
    row = (16, 1, 4, 1)
    if op == "GET_ROWS":
        src = [T(1, F32, (64, 8, 4, 1)), T(2, I32, (1, 4, 1, 1), at=1 << 16)]
        return [3], [*src, T(3, F32, (64, 1, 4, 1), op, (1, 2), at=R)]
    if op == "GLU":
        return [2], [
            T(1, F32, (64, 1, 4, 1)),
            T(2, F32, (32, 1, 4, 1), op, (1,), params=(GLU["SWIGLU"], 0), at=R),
        ]
    if op == "SUM_ROWS":
        return [2], [T(1, F32, (64, 1, 4, 1)), T(2, F32, (1, 1, 4, 1), op, (1,), at=R)]
    if op == "REPEAT":
        return [2], [T(1, F32, (16, 1, 1, 1)), T(2, F32, row, op, (1,), at=R)]
    if op == "CONCAT":
        halves = [T(1, F32, (16, 1, 2, 1)), T(2, F32, (16, 1, 2, 1), at=1 << 16)]
        return [3], [*halves, T(3, F32, row, op, (1, 2), params=(2,), at=R)]
    if op == "ARGSORT":
        return [2], [T(1, F32, (8, 1, 4, 1)), T(2, I32, (8, 1, 4, 1), op, (1,), at=R)]
    if op == "ADD_ID":
        src = [T(1, F32, row), T(2, F32, (16, 3, 1, 1), at=1 << 16), T(3, I32, (1, 4, 1, 1), at=1 << 17)]
        return [4], [*src, T(4, F32, row, op, (1, 2, 3), at=R)]
    if op == "MUL_MAT_ID":
        nodes, tensors = experts()
        tensors[-1].at = R
        return nodes, tensors
    if op in ("ADD", "MUL", "DIV"):
        return [3], [T(1, F32, row), T(2, F32, (16, 1, 1, 1), at=1 << 16), T(3, F32, row, op, (1, 2), at=R)]
    if op == "UNARY":
        return [2], [T(1, F32, row), T(2, F32, row, op, (1,), params=(UNARY["SILU"],), at=R)]
    if op == "ROPE":
        src = [T(1, F32, (64, 1, 2, 1)), T(2, I32, (2, 1, 1, 1), at=1 << 16)]
        return [3], [*src, T(3, F32, (64, 1, 2, 1), op, (1, 2), params=(0, 64, 0), at=R)]
    # CONT, SCALE, SOFT_MAX: one source of the result's shape
    return [2], [T(1, F32, row), T(2, F32, row, op, (1,), at=R)]


def spread(t: T) -> tuple[int, int, int, int]:
    """Strides that are not ggml's for ``t``'s shape but stay inside its reach: a one-row dimension's
    stride made huge (which ggml_is_contiguous ignores), or rows twice as far apart."""
    nb0, nb1, nb2, nb3 = t.strides()
    if t.ne[1] == 1:
        return (nb0, 1 << 16, nb2, nb3)
    return (nb0, 2 * nb1, 2 * nb2, 2 * nb3)


@pytest.mark.parametrize(
    "op",
    [
        "GET_ROWS",
        "GLU",
        "SUM_ROWS",
        "REPEAT",
        "CONCAT",
        "CONT",
        "ARGSORT",
        "ADD_ID",
        "MUL_MAT_ID",
        *sorted(IN_PLACE),
    ],
)
def test_results_must_be_new_packed_tensors_or_their_source_in_place(op: str) -> None:
    nodes, tensors = made_new(op)
    assert Connection().send(nodes, tensors)
    result = tensors[-1]
    # Spread out: kernels that walk rows flattened by nb1 would write past everything checked.
    nodes, tensors = made_new(op)
    tensors[-1].nb = spread(result)
    refused(nodes, tensors, match="laid out")
    # A view of some other tensor, as no constructor makes it.
    nodes, tensors = made_new(op)
    tensors.append(T(99, F32, (1 << 16, 1, 1, 1), at=R))
    tensors[-2].view_src = 99
    refused(nodes, tensors, match="laid out")
    # Over its source, with its source's strides: only for the ops that have an in-place form.
    nodes, tensors = made_new(op)
    source, result = tensors[0], tensors[-1]
    if result.ne != source.ne or op == "MUL_MAT_ID":
        return
    result.at, result.nb, result.view_src = source.at, source.strides(), source.id
    if op in IN_PLACE:
        assert Connection().send(nodes, tensors)
    else:
        refused(nodes, tensors, match="laid out")


def test_a_scale_result_with_a_one_row_dimension_far_apart_is_refused() -> None:
    """SCALE's kernel writes row i of its result at i * nb1 for every row, asserting only that the
    result is contiguous, which ignores nb1 when ne1 is 1: 64 rows 1 MiB apart from a 4 KiB tensor."""
    x = T(1, F32, (16, 1, 64, 1))
    assert Connection().send([2], [x, T(2, F32, (16, 1, 64, 1), "SCALE", (1,), at=8192)])
    wide = (4, 1 << 20, 64, 64 * 64)
    refused([2], [x, T(2, F32, (16, 1, 64, 1), "SCALE", (1,), at=8192, nb=wide)], match="laid out")


def test_a_copy_writes_only_into_its_destination() -> None:
    a = T(1, F32, (16, 4, 1, 1))
    b = T(2, F16, (16, 4, 1, 1), at=8192)
    into_b = T(3, F16, (16, 4, 1, 1), "CPY", (1, 2), at=8192, view_src=2)
    assert Connection().send([3], [a, b, into_b])
    # Shaped like b but somewhere else, or not a view of it at all.
    elsewhere = T(3, F16, (16, 4, 1, 1), "CPY", (1, 2), at=16384)
    refused([3], [a, b, elsewhere], match="not a view of its second source")
    over_b = T(3, F16, (16, 4, 1, 1), "CPY", (1, 2), at=8192)
    refused([3], [a, b, over_b], match="not a view of its second source")
    # ggml_cast: the result is its own second source, and a new tensor.
    cast = T(3, F16, (16, 4, 1, 1), "CPY", (1, 3), at=16384)
    assert Connection().send([3], [a, cast])
    cast.nb = spread(cast)
    refused([3], [a, cast], match="laid out")


def rope(
    mode: int, n_dims: int, n_offs: int = 0, sections: tuple[int, ...] = (0, 0, 0, 0)
) -> tuple[list[int], list[T]]:
    per_token = 4 if mode & rg.GGML_ROPE_TYPE_MROPE else 1
    x = T(1, F32, (64, 4, 2, 1))
    pos = T(2, I32, (2 * per_token, 1, 1, 1), at=8192)
    params = (0, n_dims, mode, 0, 0, 0, 0, 0, 0, 0, 0, *sections, n_offs)
    return [3], [x, pos, T(3, F32, (64, 4, 2, 1), "ROPE", (1, 2), params=params, at=16384)]


def test_rope_parameters_must_be_ones_ggml_makes() -> None:
    neox, mrope, vision = rg.GGML_ROPE_TYPE_NEOX, rg.GGML_ROPE_TYPE_MROPE, rg.GGML_ROPE_TYPE_VISION
    for ok in (rope(0, 64), rope(neox, 32, n_offs=32), rope(mrope, 64, sections=(8, 12, 12, 0))):
        assert Connection().send(*ok)
    assert Connection().send(*rope(vision, 32, sections=(8, 8, 0, 0)))
    refused(*rope(4, 64), match="rope mode 4")  # no such mode: the kernel aborts
    refused(*rope(1, 64), match="rope mode 1")  # GLM's, removed
    # The rotated span from its offset runs past the row, or splits a pair.
    refused(*rope(neox, 32, n_offs=34), match="32 rotated from 34")
    refused(*rope(neox, 32, n_offs=3), match="rotated from 3")
    refused(*rope(neox, 31), match="31 rotated")
    # Vision rope pairs values n_dims apart across the whole row.
    refused(*rope(vision, 48, sections=(8, 8, 0, 0)), match="vision rope of 48")
    # Sections whose sum is zero divide by it; negative ones are no sections.
    refused(*rope(mrope, 64, sections=(4, -4, 0, 0)), match="rope sections")
    refused(*rope(mrope, 64), match="rope sections")
    refused(*rope(mrope, 64, sections=(64, 64, 0, 0)), match="rope sections")
    # Only the fourth section: the CPU kernel asserts one of the first three is not empty.
    refused(*rope(mrope, 64, sections=(0, 0, 0, 8)), match="rope sections")
    refused(*rope(vision, 32, sections=(0, 0, 0, 8)), match="rope sections")
    assert Connection().send(*rope(mrope, 64, sections=(0, 0, 8, 8)))
    refused(*rope(neox, 64, sections=(8, 0, 0, 0)), match="without multi-axis")
    # A vision rope rotates every pair of the row by its frequency factor: one per pair, not per
    # rotated pair as ggml asks (the kernel would read 16 floats past these 16).
    nodes, tensors = rope(vision, 32, sections=(8, 8, 0, 0))
    factors = T(4, F32, (16, 1, 1, 1), at=SIZE - 64)
    tensors[2].src = (1, 2, 4)
    refused(nodes, [*tensors, factors], match="too few frequency factors")
    factors.ne, factors.at = (32, 1, 1, 1), SIZE - 128
    assert Connection().send(nodes, [*tensors, factors])


def small_donation() -> Connection:
    """A connection whose donation is its one buffer and 4 MiB beside, on one thread: one graph's
    work buffer may be 8.5 MiB (``work_limit``), and the ledger has 4 MiB left for it."""
    return Connection(RpcFilter(Ledger(SIZE + 4 * MIB), RULES, threads=1))


def many_experts(n_experts: int, n_tokens: int) -> tuple[list[int], list[T]]:
    """MUL_MAT_ID of one expert per token among many tiny ones, its row map experts x tokens."""
    probs = T(1, F32, (1, n_tokens, 1, 1))
    ids = T(2, I32, (1, n_tokens, 1, 1), "ARGSORT", (1,), at=8192)
    weights = T(3, Q8_0, (32, 1, n_experts, 1), at=16384)
    x = T(4, F32, (32, 1, n_tokens, 1), at=65536)
    out = T(5, F32, (1, 1, n_tokens, 1), "MUL_MAT_ID", (3, 4, 2), at=262144)
    return [2, 5], [probs, ids, weights, x, out]


def test_a_graph_whose_work_buffer_outgrows_the_donation_is_refused() -> None:
    # 8 bytes per expert per id: 8 MiB for 1,024 x 1,024, past the 4 MiB left; a quarter of it passes.
    with pytest.raises(RpcViolation, match="work buffer could take 8 MiB"):
        small_donation().send(*many_experts(1024, 1024))
    assert small_donation().send(*many_experts(256, 1024))
    # The same graph where the donation is larger.
    assert Connection().send(*many_experts(1024, 1024))
    # Flash attention's tiles per thread grow with the heads' width: 33 MiB for 65,536-wide keys.
    q = T(1, F32, (65536, 1, 1, 1))
    k = T(2, F16, (65536, 1, 1, 1), at=1 << 18)
    v = T(3, F16, (64, 1, 1, 1), at=(1 << 18) + (1 << 17))
    fa = T(4, F32, (64, 1, 1, 1), "FLASH_ATTN_EXT", (1, 2, 3), at=(1 << 19))
    with pytest.raises(RpcViolation, match="work buffer"):
        small_donation().send([4], [q, k, v, fa])
    assert Connection().send([4], [q, k, v, fa])


def test_the_work_buffer_bound_covers_ggmls_for_a_matmul() -> None:
    """ggml_graph_plan for a MUL_MAT: its F32 input converted to its weights' dot-product type (Q8_0
    for Q8_0 weights: 34 bytes a 32) padded to 64, the tiled matmul's 64 and 512 KiB a thread, and a
    cache line a thread (64 bytes here). The bound is at least that, and not much more."""
    a = T(1, Q8_0, (4096, 4, 1, 1))
    b = T(2, F32, (4096, 8, 1, 1), at=1 << 16)
    out = T(3, F32, (4, 8, 1, 1), "MUL_MAT", (1, 2), at=1 << 18)
    ggml = 4096 * 8 // 32 * 34 + 64 + 4 * 512 * 1024 + 4 * 64
    work = rg.work_bytes(Connection().filt.check_graph(graph([3], [a, b, out])), 4)
    assert ggml <= work <= ggml * 1.01
    # F32 weights take F32 input as it is: only the tiled scratch.
    a.type = F32
    work = rg.work_bytes(Connection().filt.check_graph(graph([3], [a, b, out])), 4)
    assert work == 64 + 4 * 512 * 1024 + 4 * 256


GOOD = [experts(), get_rows((64, 16, 1, 1), 16), set_rows((64, 512, 1, 1))]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(GOOD),
    st.integers(0, 7),
    st.sampled_from(["ne", "nb", "type", "op", "at", "src", "params", "view_offs"]),
    st.integers(-(2**33), 2**33),
)
def test_any_change_to_a_good_graph_passes_or_is_a_violation(base, which, attr, value) -> None:
    nodes, tensors = base
    tensors = [T(**vars(t)) for t in tensors]
    for each in tensors:
        each.nb = each.strides()
    t = tensors[which % len(tensors)]
    u32 = value % 2**32
    if attr in ("ne", "nb"):
        old = list(t.ne if attr == "ne" else t.strides())
        old[value % 4] = u32
        setattr(t, attr, tuple(old))
    elif attr == "type":
        t.type = u32 % 64
    elif attr == "op":
        t.op = RULES.op_names[u32 % len(RULES.op_names)]
    elif attr == "src":
        t.src = (u32 % 9, *t.src[1:])
    elif attr == "params":
        t.params = (value % 2**31, *t.params[1:])
    elif attr == "at":
        t.at = value % SIZE
    else:
        t.view_offs = u32
    try:
        Connection().send(nodes, tensors)
    except RpcViolation:
        pass


def test_the_workers_work_buffers_together_stay_within_the_donation() -> None:
    """Each of a donor's workers (one a host) keeps its own work buffer; the ledger they share
    charges each connection's largest, so two graphs that each need 60% of the donation do not
    both run. Closing the first gives its share back."""
    ledger = Ledger(64 * MIB)
    first, second = (Connection(RpcFilter(ledger, RULES, threads=4)) for _ in range(2))
    # A row map of 8 bytes per expert per id and the tiled scratch: about 40 MiB, over 60% of 64 MiB
    # (one graph alone may take 56 MiB).
    nodes, tensors = many_experts(4800, 1024)
    need = rg.work_bytes(first.filt.check_graph(graph(nodes, tensors)), 4)
    assert 0.6 * ledger.cap_bytes <= need < rg.work_limit(ledger.cap_bytes, 4)
    held = ledger.used_bytes
    assert first.send(nodes, tensors)
    assert ledger.used_bytes == held + need == first.filt.work + 2 * SIZE
    assert first.send(nodes, tensors)  # the same buffer again: nothing more charged
    assert ledger.used_bytes == held + need
    with pytest.raises(RpcViolation, match=r"work buffer could take \d+ MiB, more than is left"):
        second.send(nodes, tensors)
    assert ledger.used_bytes == held + need and second.filt.work == 0
    first.filt.close()
    assert ledger.used_bytes == SIZE and first.filt.work == 0
    assert Connection(RpcFilter(ledger, RULES, threads=4)).send(nodes, tensors)
