"""A worker serving several devices (its GPUs, then its CPU) through one RPC server: the filter keeps
one ledger per device, charges each allocation to the device it names, answers each device's memory
from that device's own cap, and ends a connection that names a device the worker does not serve."""

from __future__ import annotations

import struct

import pytest

from hearth.core.rpc_filter import Ledger, RpcFilter, RpcViolation
from hearth.core.rpc_protocol import GET_ALLOC_SIZE_BYTES, Cmd
from hearth.engine import rpc

RULES = rpc.graph_rules()
GPU, CPU = 0, 1
VRAM_CAP, RAM_CAP = 1000, 5000
REFUSED = struct.pack("<QQQ", 16, 0, 0)


def cmd(code: int, payload: bytes = b"") -> bytes:
    return bytes([code]) + struct.pack("<Q", len(payload)) + payload


def alloc(device: int, size: int) -> bytes:
    return cmd(Cmd.ALLOC_BUFFER, struct.pack("<IQ", device, size))


def granted(ptr: int, size: int) -> bytes:
    return struct.pack("<QQQ", 16, ptr, size)


def memory(free: int, total: int) -> bytes:
    return struct.pack("<QQQ", 16, free, total)


def two_devices() -> tuple[Ledger, Ledger, RpcFilter]:
    vram, ram = Ledger(VRAM_CAP), Ledger(RAM_CAP)
    return vram, ram, RpcFilter([vram, ram], RULES)


def test_each_allocation_is_charged_to_the_device_it_names() -> None:
    vram, ram, f = two_devices()
    assert f.from_client(alloc(GPU, 800)) == (alloc(GPU, 800), b"")
    assert f.from_server(granted(0xA, 800)) == granted(0xA, 800)
    assert f.from_client(alloc(CPU, 3000)) == (alloc(CPU, 3000), b"")
    assert f.from_server(granted(0xB, 3000)) == granted(0xB, 3000)
    assert (vram.used_bytes, ram.used_bytes) == (800, 3000)


def test_an_allocation_past_the_vram_cap_is_refused_while_the_cpu_still_has_room() -> None:
    vram, ram, f = two_devices()
    f.from_client(alloc(GPU, VRAM_CAP))
    f.from_server(granted(0xA, VRAM_CAP))
    # The GPU's cap is spent: the filter answers for the server, which never sees the request.
    assert f.from_client(alloc(GPU, 1)) == (b"", REFUSED)
    # The same size on the CPU passes: its ledger is its own.
    assert f.from_client(alloc(CPU, VRAM_CAP)) == (alloc(CPU, VRAM_CAP), b"")
    f.from_server(granted(0xB, VRAM_CAP))
    assert (vram.used_bytes, ram.used_bytes) == (VRAM_CAP, VRAM_CAP)


def test_freeing_a_buffer_gives_it_back_to_its_own_device() -> None:
    vram, ram, f = two_devices()
    f.from_client(alloc(GPU, 600))
    f.from_server(granted(0xA, 600))
    f.from_client(alloc(CPU, 700))
    f.from_server(granted(0xB, 700))
    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", 0xA)))
    assert (vram.used_bytes, ram.used_bytes) == (0, 700)
    f.close()
    assert (vram.used_bytes, ram.used_bytes) == (0, 0)


def test_closing_gives_back_each_devices_buffers_and_pending_allocations() -> None:
    vram, ram, f = two_devices()
    f.from_client(alloc(GPU, 500))
    f.from_server(granted(0xA, 500))
    f.from_client(alloc(CPU, 2000))  # not answered yet
    assert (vram.used_bytes, ram.pending_bytes) == (500, 2000)
    f.close()
    assert (vram.used_bytes, vram.pending_bytes, ram.used_bytes, ram.pending_bytes) == (0, 0, 0, 0)


def test_each_devices_memory_is_answered_from_its_own_cap() -> None:
    _, _, f = two_devices()
    f.from_client(alloc(GPU, 400))
    f.from_server(granted(0xA, 400))
    big = 1 << 40
    for device, left, cap in ((GPU, VRAM_CAP - 400, VRAM_CAP), (CPU, RAM_CAP, RAM_CAP)):
        asked = cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", device))
        assert f.from_client(asked) == (asked, b"")
        assert f.from_server(memory(big, big)) == memory(left, cap)


def test_memory_answers_follow_the_order_they_were_asked_in() -> None:
    _, _, f = two_devices()
    asked = b"".join(cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", d)) for d in (CPU, GPU))
    assert f.from_client(asked) == (asked, b"")
    both = memory(1 << 40, 1 << 40) * 2
    assert f.from_server(both) == memory(RAM_CAP, RAM_CAP) + memory(VRAM_CAP, VRAM_CAP)


def test_a_device_the_worker_does_not_serve_ends_the_connection_with_a_reason() -> None:
    cases = [
        alloc(2, 1),
        cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 2)),
        cmd(Cmd.GET_ALIGNMENT, struct.pack("<I", 7)),
        cmd(Cmd.GET_MAX_SIZE, struct.pack("<I", 0xFFFFFFFF)),
        cmd(Cmd.GET_ALLOC_SIZE, struct.pack("<I", 2) + bytes(GET_ALLOC_SIZE_BYTES - 4)),
        cmd(Cmd.GRAPH_RECOMPUTE, struct.pack("<I", 3)),
        cmd(Cmd.GRAPH_COMPUTE, struct.pack("<II", 2, 0) + struct.pack("<I", 0)),
    ]
    for bad in cases:
        vram, ram, f = two_devices()
        with pytest.raises(RpcViolation, match=r"serves 2 devices \(0 to 1\)"):
            f.from_client(bad)
        assert (vram.pending_bytes, ram.pending_bytes) == (0, 0)


def test_a_one_device_worker_refuses_device_one() -> None:
    f = RpcFilter(Ledger(RAM_CAP), RULES)
    with pytest.raises(RpcViolation, match=r"serves 1 device \(0 to 0\)"):
        f.from_client(alloc(1, 1))


@pytest.mark.parametrize(
    "bad",
    [
        cmd(Cmd.GET_ALIGNMENT, b"\x00\x00"),
        cmd(Cmd.GET_MAX_SIZE, b""),
        cmd(Cmd.GET_ALLOC_SIZE, struct.pack("<I", 0)),
        cmd(Cmd.GET_ALIGNMENT, bytes(5)),
    ],
)
def test_device_queries_of_the_wrong_size_are_violations(bad: bytes) -> None:
    _, _, f = two_devices()
    with pytest.raises(RpcViolation):
        f.from_client(bad)


def test_device_queries_for_served_devices_pass_unchanged() -> None:
    _, _, f = two_devices()
    for device in (GPU, CPU):
        for code in (Cmd.GET_ALIGNMENT, Cmd.GET_MAX_SIZE):
            asked = cmd(code, struct.pack("<I", device))
            assert f.from_client(asked) == (asked, b"")
            assert f.from_server(struct.pack("<QQ", 8, 64)) == struct.pack("<QQ", 8, 64)
        sized = cmd(Cmd.GET_ALLOC_SIZE, struct.pack("<I", device) + bytes(GET_ALLOC_SIZE_BYTES - 4))
        assert f.from_client(sized) == (sized, b"")


def test_an_integrated_gpu_and_the_cpu_may_share_one_ledger() -> None:
    ram = Ledger(RAM_CAP)
    f = RpcFilter([ram, ram], RULES)
    f.from_client(alloc(GPU, 3000))
    f.from_server(granted(0xA, 3000))
    assert f.from_client(alloc(CPU, 3000)) == (b"", REFUSED)
    assert ram.used_bytes == 3000


def test_a_filter_needs_a_ledger() -> None:
    with pytest.raises(ValueError, match="at least one device"):
        RpcFilter([], RULES)
