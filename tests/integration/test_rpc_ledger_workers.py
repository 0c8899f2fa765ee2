"""A donor's one ledger with real workers: two hosts' reservations, each with its own RPC worker
process, relayed through the filters and locks the donor grants their tunnel connections, on loopback.
Allocations asked for at once never add up past the donation, a connection that ends gives its memory
back, and a relay busy with its own filter does not hold up another's."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable

from harness.sockets import recv_exact
from hearth.core import control
from hearth.core.device_id import device_id
from hearth.core.rpc_filter import Ledger
from hearth.core.rpc_protocol import CONN_CAPS_SIZE, Cmd
from hearth.core.units import MIB
from hearth.mesh.tunnel import Grant, Link, relay
from hearth.mesh.workers import Reservation, Workers
from hearth.store.settings import Donation

DONATED = 64 * MIB
BUILD = "test-build"
BOUND_S = 10.0
HELLO = bytes([Cmd.HELLO]) + struct.pack("<Q", CONN_CAPS_SIZE) + bytes(CONN_CAPS_SIZE)
HELLO_REPLY = 8 + 4 + CONN_CAPS_SIZE


def alloc(size: int) -> bytes:
    return bytes([Cmd.ALLOC_BUFFER]) + struct.pack("<QIQ", 12, 0, size)


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Tunnelled:
    """One tunnel connection as the donor serves it: the grant's filter and lock, relayed on a thread
    to the reservation's worker; ``client`` is the host's end."""

    def __init__(self, grant: Grant) -> None:
        self.grant = grant
        self.client, near = socket.socketpair()
        self.client.settimeout(BOUND_S)
        upstream = grant.connect()
        upstream.settimeout(None)
        self.filt = grant.make_filter()
        self.link = Link(near, upstream, self.filt, grant.lock)
        self.ended: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.ended.append(relay(near, upstream, self.filt, grant.lock, self.link)),
            daemon=True,
        )
        self.thread.start()

    def hello(self) -> None:
        self.client.sendall(HELLO)
        assert len(recv_exact(self.client, HELLO_REPLY)) == HELLO_REPLY

    def buffer(self) -> int:
        """The next ALLOC_BUFFER answer's handle: 0 when refused."""
        size, ptr, _ = struct.unpack("<QQQ", recv_exact(self.client, 24))
        assert size == 16
        return int(ptr)

    def close(self) -> None:
        self.link.cut()
        self.thread.join(BOUND_S)
        assert not self.thread.is_alive()
        self.client.close()


class Donor:
    """A donating node's ``Workers`` with real workers, and a host certificate per host."""

    def __init__(self) -> None:
        async def on_lost(reservation: Reservation, reason: str) -> None:
            raise AssertionError(f"lost a worker: {reason}")

        self.workers = Workers(
            "donor",
            lambda: Donation(enabled=True, max_memory=DONATED),
            lambda: 8 * DONATED,
            lambda: BUILD,
            lambda: ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            lambda _dev_id: True,
            on_lost,
            "127.0.0.1",
        )

    async def reserve(self, cert: bytes) -> Grant:
        answer = await self.workers.reserve(device_id(cert), control.Reserve(1, DONATED // 2, 1, BUILD))
        assert isinstance(answer, control.Reserved), answer
        grant = self.workers.authorize(cert, answer.ticket)
        assert grant is not None
        return grant

    def ledger(self) -> Ledger:
        (first, *rest) = self.workers.reservations.values()
        assert all(r.ledger is first.ledger for r in rest)
        return first.ledger


def run(scenario: Callable[[Donor, Grant, Grant], None]) -> None:
    async def main() -> None:
        donor = Donor()
        try:
            a = await donor.reserve(b"host a's certificate")
            b = await donor.reserve(b"host b's certificate")
            await asyncio.to_thread(scenario, donor, a, b)
        finally:
            await donor.workers.release_all("the test is over")
            donor.workers.close()

    asyncio.run(asyncio.wait_for(main(), 120))


def test_two_workers_asked_for_the_whole_donation_at_once_allocate_it_once() -> None:
    def scenario(donor: Donor, a: Grant, b: Grant) -> None:
        ledger = donor.ledger()
        first, second = Tunnelled(a), Tunnelled(b)
        try:
            # Each host asks its own worker for all of the donation, neither waiting for an answer.
            first.client.sendall(HELLO + alloc(DONATED))
            second.client.sendall(HELLO + alloc(DONATED))
            for c in (first, second):
                assert len(recv_exact(c.client, HELLO_REPLY)) == HELLO_REPLY
            handles = [first.buffer(), second.buffer()]
            assert sorted(bool(h) for h in handles) == [False, True], handles
            assert wait_for(lambda: (ledger.used_bytes, ledger.pending_bytes) == (DONATED, 0))
            holder, refused = (first, second) if handles[0] else (second, first)
            # The holder's connection ends: the ledger gets its memory back, and the other host gets it.
            holder.close()
            assert wait_for(lambda: (ledger.used_bytes, ledger.pending_bytes) == (0, 0))
            refused.client.sendall(alloc(DONATED))
            assert refused.buffer() != 0
            assert wait_for(lambda: ledger.used_bytes == DONATED)
        finally:
            first.close()
            second.close()
        assert wait_for(lambda: (ledger.used_bytes, ledger.pending_bytes) == (0, 0))

    run(scenario)


def test_a_relay_busy_with_its_own_filter_does_not_hold_up_anothers() -> None:
    def scenario(donor: Donor, a: Grant, b: Grant) -> None:
        assert a.lock is not b.lock
        busy, other = Tunnelled(a), Tunnelled(b)
        try:
            busy.hello()
            other.hello()
            # As while the busy relay checks a large graph or waits to send: its filter's lock is held.
            with a.lock:
                other.client.sendall(alloc(MIB))
                assert other.buffer() != 0
                busy.client.sendall(alloc(MIB))
                time.sleep(0.2)
                assert donor.ledger().used_bytes == MIB  # the busy one's waits for its relay
            assert busy.buffer() != 0
            assert wait_for(lambda: donor.ledger().used_bytes == 2 * MIB)
        finally:
            busy.close()
            other.close()

    run(scenario)
