"""The stand-in device that llama.cpp's dry run talks to: every question answered as a CPU worker would,
in whatever pieces the bytes arrive, and anything that is not ggml RPC refused."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.core.rpc_protocol import CONN_CAPS_SIZE, RPC_TENSOR_SIZE, VERSION, Cmd
from hearth.core.rpc_standin import MAX_PAYLOAD, StandIn, StandInError


def request(cmd: int, payload: bytes = b"") -> bytes:
    return bytes([cmd]) + struct.pack("<Q", len(payload)) + payload


def replies(data: bytes) -> list[bytes]:
    out = []
    while data:
        (size,) = struct.unpack_from("<Q", data)
        out.append(data[8 : 8 + size])
        data = data[8 + size :]
    return out


SESSION = b"".join(
    [
        request(Cmd.HELLO, bytes(CONN_CAPS_SIZE)),
        request(Cmd.DEVICE_COUNT),
        request(Cmd.GET_ALIGNMENT, struct.pack("<I", 0)),
        request(Cmd.GET_MAX_SIZE, struct.pack("<I", 0)),
        request(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0)),
        request(Cmd.INIT_TENSOR, bytes(RPC_TENSOR_SIZE)),  # no answer
        request(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, 1 << 20)),
        request(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, 4096)),
        request(Cmd.GET_ALLOC_SIZE, bytes(4 + RPC_TENSOR_SIZE * 11)),
        request(Cmd.GET_TENSOR, bytes(RPC_TENSOR_SIZE) + struct.pack("<QQ", 0, 16)),
        request(Cmd.FREE_BUFFER, struct.pack("<Q", 0x1000)),  # no answer
    ]
)


def test_a_dry_runs_questions_are_answered_as_a_cpu_worker_would() -> None:
    device = StandIn(alignment=64, memory=8 << 30)
    out = replies(device.receive(SESSION))
    hello, count, alignment, max_size, memory, alloc1, alloc2, alloc_size, tensor = out
    # The protocol version this llama.cpp checks, and no transport capabilities (no RDMA around a tunnel).
    assert hello == bytes([*VERSION, 0]) + bytes(CONN_CAPS_SIZE)
    assert struct.unpack("<I", count) == (1,)
    assert struct.unpack("<Q", alignment) == (64,)
    assert struct.unpack("<Q", max_size) == ((1 << 64) - 1,)
    assert struct.unpack("<QQ", memory) == (8 << 30, 8 << 30)
    # Distinct buffer handles with the sizes asked for.
    (h1, s1), (h2, s2) = struct.unpack("<QQ", alloc1), struct.unpack("<QQ", alloc2)
    assert h1 != h2 and h1 and h2 and (s1, s2) == (1 << 20, 4096)
    # Zero: the client then takes the tensor's own size.
    assert struct.unpack("<Q", alloc_size) == (0,)
    assert tensor == bytes(16)


@given(st.lists(st.integers(min_value=1, max_value=len(SESSION)), max_size=12))
def test_replies_do_not_depend_on_how_the_bytes_are_cut(cuts: list[int]) -> None:
    whole = StandIn().receive(SESSION)
    device = StandIn()
    pieces, last = [], 0
    for cut in [*sorted(set(cuts)), len(SESSION)]:
        pieces.append(device.receive(SESSION[last:cut]))
        last = cut
    assert b"".join(pieces) == whole


@pytest.mark.parametrize(
    "data",
    [
        bytes([200]) + struct.pack("<Q", 0),  # no such command
        request(Cmd.SET_TENSOR)[:1] + struct.pack("<Q", MAX_PAYLOAD + 1),  # a payload no dry run sends
        request(Cmd.GET_TENSOR, bytes(RPC_TENSOR_SIZE) + struct.pack("<QQ", 0, MAX_PAYLOAD + 1)),
    ],
)
def test_what_is_not_a_dry_run_is_refused(data: bytes) -> None:
    with pytest.raises(StandInError):
        StandIn().receive(data)
