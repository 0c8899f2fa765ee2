"""What a listener's per-source caps count as one source: an IPv4 address, an IPv6 /64."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from hearth.mesh.listener import Admission, Gate, Listener, source_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.20", "192.0.2.20"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.9", "127.0.0.9"),  # each loopback address its own, as before
        ("::1", "::1"),
        ("::ffff:192.0.2.20", "192.0.2.20"),  # IPv4-mapped: the IPv4 address it is
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("fe80::2%eth1", "fe80::/64"),
        ("not an address", "not an address"),
    ],
)
def test_the_source_of_an_address(address: str, key: str) -> None:
    assert source_key(address) == key


def test_one_ipv6_network_shares_the_per_source_cap() -> None:
    gate = Gate(handshakes=100, per_source=3, open_per_source=5)
    # Every address of one /64 is one source: a fourth handshake from it is refused, whatever address.
    held = [a for n in range(1, 4) if (a := gate.admit(f"2001:db8:1:2::{n:x}")) is not None]
    assert len(held) == 3
    assert gate.admit("2001:db8:1:2:dead:beef:0:1") is None
    assert gate.admit("2001:db8:1:3::1") is not None  # the next /64 is another source
    # An IPv4 address and its IPv4-mapped form are one source too.
    assert gate.admit("198.51.100.7") and gate.admit("::ffff:198.51.100.7") and gate.admit("198.51.100.7")
    assert gate.admit("::ffff:198.51.100.7") is None
    assert gate.admit("198.51.100.8") is not None
    # A place given back counts for the whole /64 again.
    held[0].done()
    assert gate.admit("2001:db8:1:2::99") is not None
    for admission in held:
        admission.close()
    # Left: 2001:db8:1:2::99, 2001:db8:1:3::1, 198.51.100.7 three times and 198.51.100.8.
    assert gate.in_handshake() == 6 and gate.open() == 6


def _listener_caps(host: str, family: int) -> None:
    gate = Gate(handshakes=50, per_source=2, deadline_s=5)
    listener = Listener(host, gate)

    release = threading.Event()

    def hold(conn: socket.socket, addr: tuple[str, int], admission: Admission) -> None:
        release.wait(10)  # in its handshake until the counts are read: each counts against the caps
        conn.close()

    listener.serve(hold, "test")
    socks = []
    try:
        for _ in range(4):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(5)
            socks.append(sock)
            try:
                sock.connect((host, listener.port))
            except ConnectionResetError:
                pass  # a refused one may be closed before connect() returns: the gate's count is the oracle
        deadline = time.monotonic() + 5
        while gate.refused < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.refused == 2 and gate.in_handshake() == 2
    finally:
        release.set()
        for sock in socks:
            sock.close()
        listener.close()


def test_a_loopback_listener_still_caps_per_address_on_ipv4() -> None:
    _listener_caps("127.0.0.1", socket.AF_INET)


def test_a_loopback_listener_still_caps_per_address_on_ipv6() -> None:
    try:
        probe = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    probe.close()
    _listener_caps("::1", socket.AF_INET6)
