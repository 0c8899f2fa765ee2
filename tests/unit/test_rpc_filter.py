from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core.rpc_filter import Ledger, RpcFilter, RpcViolation
from hearth.core.rpc_protocol import CONN_CAPS_SIZE, Cmd
from hearth.engine import rpc

RULES = rpc.graph_rules()


def cmd(code: int, payload: bytes = b"") -> bytes:
    return bytes([code]) + struct.pack("<Q", len(payload)) + payload


def reply(payload: bytes) -> bytes:
    return struct.pack("<Q", len(payload)) + payload


def alloc(size: int) -> bytes:
    return cmd(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, size))


def test_allocations_within_the_donation_pass_and_are_counted() -> None:
    ledger = Ledger(1000)
    f = RpcFilter(ledger, RULES)
    to_server, to_client = f.from_client(alloc(600))
    assert to_server == alloc(600) and to_client == b""
    assert f.from_server(reply(struct.pack("<QQ", 0xABC, 600))) == reply(struct.pack("<QQ", 0xABC, 600))
    assert ledger.used_bytes == 600
    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", 0xABC)))
    assert ledger.used_bytes == 0


def test_an_allocation_over_the_donation_never_reaches_the_server() -> None:
    ledger = Ledger(1000)
    f = RpcFilter(ledger, RULES)
    f.from_client(alloc(600))
    f.from_server(reply(struct.pack("<QQ", 1, 600)))
    to_server, to_client = f.from_client(alloc(600))
    assert to_server == b""
    assert to_client == reply(struct.pack("<QQ", 0, 0))  # a null buffer: llama.cpp reports the failure
    assert ledger.used_bytes == 600


def test_a_refused_allocation_waits_for_earlier_replies() -> None:
    f = RpcFilter(Ledger(100), RULES)
    to_server, _ = f.from_client(cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0)))
    assert to_server
    _, to_client = f.from_client(alloc(1000))
    assert to_client == b""  # the device-memory reply is still owed first
    out = f.from_server(reply(struct.pack("<QQ", 10**9, 2 * 10**9)))
    assert out == reply(struct.pack("<QQ", 100, 100)) + reply(struct.pack("<QQ", 0, 0))


def test_reported_memory_is_capped_to_what_is_left() -> None:
    ledger = Ledger(2**30, used_bytes=2**29)
    f = RpcFilter(ledger, RULES)
    f.from_client(cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0)))
    out = f.from_server(reply(struct.pack("<QQ", 20 * 2**30, 32 * 2**30)))
    assert struct.unpack("<QQQ", out) == (16, 2**29, 2**30)


def test_buffer_bases_are_learnt_from_the_servers_answers() -> None:
    f = RpcFilter(Ledger(1000), RULES)
    f.from_client(alloc(600))
    f.from_server(reply(struct.pack("<QQ", 0xABC, 600)))
    ask = cmd(Cmd.BUFFER_GET_BASE, struct.pack("<Q", 0xABC))
    assert f.from_client(ask) == (ask, b"")
    assert f.awaiting_server()
    answer = reply(struct.pack("<Q", 0x7F00_0000_1000))
    assert b"".join(f.from_server(answer[i : i + 5]) for i in range(0, len(answer), 5)) == answer
    assert f.bases == {0xABC: 0x7F00_0000_1000} and not f.awaiting_server()
    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", 0xABC)))
    assert f.bases == {} and f.buffers == {}


@pytest.mark.parametrize(
    "bad",
    [
        bytes([200]) + struct.pack("<Q", 0),
        cmd(Cmd.ALLOC_BUFFER, b"\0" * 5),
        cmd(Cmd.GRAPH_COMPUTE, b"\1\0\0\0\xff\xff\xff\xff"),
        cmd(Cmd.BUFFER_GET_BASE, b"\0" * 4),
        cmd(Cmd.FREE_BUFFER, b"\0" * 9),
    ],
)
def test_malformed_commands_are_violations(bad: bytes) -> None:
    with pytest.raises(RpcViolation):
        RpcFilter(Ledger(10), RULES).from_client(bad)


def test_large_payloads_stream_through_in_pieces() -> None:
    f = RpcFilter(Ledger(1 << 20), RULES)
    f.from_client(alloc(100_000))  # a tensor's data goes into a buffer that can hold it
    f.from_server(reply(struct.pack("<QQ", 1, 100_000)))
    big = cmd(Cmd.SET_TENSOR, b"x" * 100_000) + cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0))
    out = b""
    for i in range(0, len(big), 777):
        out += f.from_client(big[i : i + 777])[0]
    assert out == big
    answer = reply(struct.pack("<QQ", 5, 5))
    streamed = b"".join(f.from_server(answer[i : i + 3]) for i in range(0, len(answer), 3))
    assert streamed == answer


def test_the_server_owes_an_answer_only_to_commands_that_have_one() -> None:
    f = RpcFilter(Ledger(1000), RULES)
    assert not f.awaiting_server()
    # A graph is computed without an answer; its output is fetched by a later command.
    f.from_client(
        cmd(Cmd.SET_TENSOR, b"x" * 64) + cmd(Cmd.GRAPH_COMPUTE, struct.pack("<II", 0, 0) + bytes(4))
    )
    assert not f.awaiting_server()
    f.from_client(cmd(Cmd.GET_TENSOR, b"t" * 40))
    assert f.awaiting_server()
    answer = reply(b"o" * 1000)
    f.from_server(answer[:5])  # not even the length yet
    assert f.awaiting_server()
    f.from_server(answer[5:500])  # the rest of the answer is still owed
    assert f.awaiting_server()
    f.from_server(answer[500:])
    assert not f.awaiting_server()


def test_an_answer_the_filter_gives_itself_is_not_owed_by_the_server() -> None:
    f = RpcFilter(Ledger(100), RULES)
    _, to_client = f.from_client(alloc(1000))
    assert to_client and not f.awaiting_server()
    f.from_client(cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0)))
    _, to_client = f.from_client(alloc(1000))
    assert to_client == b"" and f.awaiting_server()  # the refusal waits behind the server's answer
    f.from_server(reply(struct.pack("<QQ", 10, 10)))
    assert not f.awaiting_server()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=10))
def test_arbitrary_client_bytes_pass_or_are_violations(chunks) -> None:
    f = RpcFilter(Ledger(1 << 20), RULES)
    for chunk in chunks:
        try:
            f.from_client(chunk)
        except RpcViolation:
            return


def test_hello_transport_capabilities_are_cleared_both_ways() -> None:
    f = RpcFilter(Ledger(1000), RULES)
    caps = bytes(range(1, CONN_CAPS_SIZE + 1))  # what an RDMA-capable end would advertise
    hello = cmd(Cmd.HELLO, caps)
    # Delivered a byte at a time, as TCP may.
    to_server = b"".join(f.from_client(hello[i : i + 1])[0] for i in range(len(hello)))
    assert to_server == cmd(Cmd.HELLO, bytes(CONN_CAPS_SIZE))
    answer = reply(bytes([3, 7, 0, 0]) + caps)
    to_client = b"".join(f.from_server(answer[i : i + 1]) for i in range(len(answer)))
    assert to_client == reply(bytes([3, 7, 0, 0]) + bytes(CONN_CAPS_SIZE))
    # The connection goes on normally after it.
    assert f.from_client(alloc(10))[0] == alloc(10)


def test_a_malformed_hello_ends_the_connection() -> None:
    with pytest.raises(RpcViolation, match="malformed HELLO"):
        RpcFilter(Ledger(1000), RULES).from_client(cmd(Cmd.HELLO, b"\x01" * 5))
    f = RpcFilter(Ledger(1000), RULES)
    f.from_client(cmd(Cmd.HELLO, bytes(CONN_CAPS_SIZE)))
    with pytest.raises(RpcViolation, match="malformed HELLO reply"):
        f.from_server(reply(b"\x03\x07"))


def test_the_build_says_whether_rdma_was_compiled_in(tmp_path: Path) -> None:
    assert isinstance(rpc.rdma_compiled(), bool)
    without, built_with = tmp_path / "plain.so", tmp_path / "rdma.so"
    without.write_bytes(b"\x7fELF" + bytes(64) + b"ggml_backend_rpc_start_server\x00")
    built_with.write_bytes(b"\x7fELF" + bytes(64) + b"ibv_post_send\x00" + bytes(64))
    assert rpc.rdma_compiled(without) is False
    assert rpc.rdma_compiled(built_with) is True
