"""One donation shared by several connections: allocations are charged when they are forwarded, so
connections that ask at once cannot each take the whole of it, and a connection that ends gives back
everything it held or was still waiting for."""

from __future__ import annotations

import struct
import threading
import time

import pytest

from hearth.core.rpc_filter import Ledger, RpcFilter, RpcViolation
from hearth.core.rpc_protocol import Cmd
from hearth.engine import rpc

RULES = rpc.graph_rules()
DONATED = 1000
REFUSED = struct.pack("<QQQ", 16, 0, 0)  # a null buffer: what llama.cpp reads as a failed allocation


def cmd(code: int, payload: bytes = b"") -> bytes:
    return bytes([code]) + struct.pack("<Q", len(payload)) + payload


def alloc(size: int) -> bytes:
    return cmd(Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, size))


def granted(ptr: int, size: int) -> bytes:
    return struct.pack("<QQQ", 16, ptr, size)


def test_two_connections_asking_for_the_whole_donation_at_once_get_it_once() -> None:
    ledger = Ledger(DONATED)
    first, second = RpcFilter(ledger, RULES), RpcFilter(ledger, RULES)
    # Both ask before the server has answered either.
    assert first.from_client(alloc(DONATED)) == (alloc(DONATED), b"")
    assert second.from_client(alloc(DONATED)) == (b"", REFUSED)
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, DONATED)
    # Even a small one waits for the donation to be given back.
    assert second.from_client(alloc(1)) == (b"", REFUSED)
    assert first.from_server(granted(0xA, DONATED)) == granted(0xA, DONATED)
    assert (ledger.used_bytes, ledger.pending_bytes) == (DONATED, 0)
    assert second.from_client(alloc(1)) == (b"", REFUSED)


def test_parts_that_fit_together_pass_and_the_one_that_does_not_is_refused() -> None:
    ledger = Ledger(DONATED)
    a, b, c = (RpcFilter(ledger, RULES) for _ in range(3))
    assert a.from_client(alloc(400))[0] == alloc(400)
    assert b.from_client(alloc(600))[0] == alloc(600)
    assert c.from_client(alloc(1)) == (b"", REFUSED)
    b.from_server(granted(0xB, 600))
    a.from_server(granted(0xA, 400))
    assert (ledger.used_bytes, ledger.pending_bytes) == (DONATED, 0)


def test_a_refused_reply_gives_the_reservation_back() -> None:
    ledger = Ledger(DONATED)
    first, second = RpcFilter(ledger, RULES), RpcFilter(ledger, RULES)
    first.from_client(alloc(DONATED))
    assert first.from_server(REFUSED) == REFUSED  # the server could not allocate it
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    assert second.from_client(alloc(DONATED))[0] == alloc(DONATED)


def test_a_malformed_allocation_reply_gives_the_reservation_back() -> None:
    ledger = Ledger(DONATED)
    f = RpcFilter(ledger, RULES)
    f.from_client(alloc(DONATED))
    f.from_server(struct.pack("<Q", 8) + bytes(8))
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    assert f.buffers == {}


def test_a_server_that_grants_more_than_was_asked_ends_its_connection() -> None:
    ledger = Ledger(DONATED)
    f = RpcFilter(ledger, RULES)
    f.from_client(alloc(400))
    with pytest.raises(RpcViolation, match="allocated 900 bytes where 400 were asked"):
        f.from_server(granted(0x10, 900))
    # Booked as the server holds it until the connection's end frees it, then given back.
    assert (ledger.used_bytes, ledger.pending_bytes) == (900, 0)
    f.close()
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    # Exactly what was asked, and a zero-byte buffer, are what ggml's backends answer.
    g = RpcFilter(ledger, RULES)
    g.from_client(alloc(400) + alloc(0))
    assert g.from_server(granted(0x20, 400) + granted(0x30, 0)) == granted(0x20, 400) + granted(0x30, 0)
    assert ledger.used_bytes == 400


def test_closing_a_connection_returns_what_it_held_and_what_it_waited_for() -> None:
    ledger = Ledger(DONATED)
    closing, other = RpcFilter(ledger, RULES), RpcFilter(ledger, RULES)
    closing.from_client(alloc(400))
    closing.from_server(granted(0xA, 400))
    closing.from_client(alloc(600))  # still unanswered when the connection ends
    assert other.from_client(alloc(1)) == (b"", REFUSED)
    closing.close()
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    closing.close()  # twice gives back nothing twice
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    assert other.from_client(alloc(DONATED))[0] == alloc(DONATED)


def test_freeing_a_buffer_returns_it() -> None:
    ledger = Ledger(DONATED)
    f = RpcFilter(ledger, RULES)
    f.from_client(alloc(DONATED))
    f.from_server(granted(0xA, DONATED))
    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", 0xA)))
    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", 0xA)))  # a handle it no longer has frees nothing
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
    assert RpcFilter(ledger, RULES).from_client(alloc(DONATED))[0] == alloc(DONATED)


def test_free_memory_reported_leaves_out_what_is_being_allocated() -> None:
    ledger = Ledger(DONATED)
    allocating, asking = RpcFilter(ledger, RULES), RpcFilter(ledger, RULES)
    allocating.from_client(alloc(300))
    asking.from_client(cmd(Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0)))
    answer = asking.from_server(struct.pack("<QQQ", 16, 10**12, 10**12))
    assert struct.unpack("<QQQ", answer) == (16, DONATED - 300, DONATED)


def test_a_smaller_cap_refuses_more_but_keeps_what_is_held() -> None:
    ledger = Ledger(DONATED)
    f = RpcFilter(ledger, RULES)
    f.from_client(alloc(600))
    f.from_server(granted(0xA, 600))
    ledger.set_cap(500)
    assert ledger.left() == 0
    assert f.from_client(alloc(1)) == (b"", REFUSED)
    f.close()
    assert ledger.left() == 500


def test_connections_on_many_threads_never_hold_more_than_the_donation_together() -> None:
    """Each thread is one connection with its filter to itself, as each relay has; only the ledger
    is shared. Three allocations of 400 never fit in 1,000 at once, however the threads interleave."""
    ledger = Ledger(DONATED)
    held = [0]
    most = [0]
    count = threading.Lock()
    errors: list[BaseException] = []

    def connection(n: int) -> None:
        f = RpcFilter(ledger, RULES)
        try:
            for i in range(200):
                ptr = (n << 20) | (i + 1)
                to_server, to_client = f.from_client(alloc(400))
                if to_client:
                    assert to_client == REFUSED and not to_server
                    continue
                # Counted after the ledger takes it and uncounted before it gives it back, so the
                # count is never more than what the ledger holds at that moment.
                with count:
                    held[0] += 400
                    most[0] = max(most[0], held[0])
                time.sleep(0.0005)  # the server takes a moment to answer; others ask meanwhile
                f.from_server(granted(ptr, 400))
                with count:
                    held[0] -= 400
                if i % 3:
                    f.from_client(cmd(Cmd.FREE_BUFFER, struct.pack("<Q", ptr)))
                else:
                    f.close()  # the connection ends holding it; the next one starts afresh
        except BaseException as exc:
            errors.append(exc)
        finally:
            f.close()

    threads = [threading.Thread(target=connection, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert 0 < most[0] <= DONATED
    assert (ledger.used_bytes, ledger.pending_bytes) == (0, 0)
