"""The tunnel's listeners and the dry run's stand-ins under floods, on loopback: handshakes held to one
deadline and a cap, an accept loop that outlives running out of descriptors, a relay above fd 1024,
a reservation's connections and what one connection may hold, capped."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.rpc_protocol import Cmd
from hearth.engine.rpc import graph_rules
from hearth.mesh import listener, tls
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.tunnel import TICKET_BYTES, Grant, Links, TunnelServer, relay

ROOT = Path(__file__).resolve().parents[2]
TICKET = b"t" * TICKET_BYTES

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="uses 127.0.0.x source addresses and /proc, as only Linux has them"
)


def _identity(name: str) -> Identity:
    return Identity(name, *make_certificate(), "file")


def _closed_soon(sock: socket.socket, within: float) -> bool:
    """Whether the other end closes (or resets) ``sock`` within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def _flood(port: int, count: int) -> list[socket.socket | None]:
    """``count`` connections that say nothing; None for each reset before connect even returned."""
    socks: list[socket.socket | None] = []
    for _ in range(count):
        try:
            socks.append(_connect(port))
        except ConnectionResetError:
            socks.append(None)
    return socks


def _gone(socks: list[socket.socket | None], within: float) -> list[bool]:
    return [sock is None or _closed_soon(sock, within) for sock in socks]


def _close_all(socks: list[socket.socket | None]) -> None:
    for sock in socks:
        if sock is not None:
            sock.close()


class Echo:
    """A TCP server on 127.0.0.1 that sends back what it gets: a stand-in worker."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(data)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tunnel() -> Iterator[tuple[TunnelServer, ssl.SSLContext, Links]]:
    """A worker node's tunnel endpoint for one paired host with a ticket, relaying to an echo server;
    the host's TLS context and the reservation's connections."""
    donor, host = _identity("donor"), _identity("host")
    server_ctx = tls.server_context(donor, [host.cert_pem.decode()])
    client_ctx = tls.pinned_client_context(host, donor.cert_pem.decode())
    echo = Echo()
    links = Links()
    links.limit = 2  # a reservation's share, small for the test
    grant = Grant(echo.connect, lambda: RpcFilter(Ledger(1 << 20), graph_rules()), threading.Lock(), links)
    server = TunnelServer("127.0.0.1", lambda: server_ctx, lambda _peer, t: grant if t == TICKET else None)
    try:
        yield server, client_ctx, links
    finally:
        server.close()
        echo.close()


def _open_tunnel(port: int, ctx: ssl.SSLContext, source: str = "127.0.0.1") -> ssl.SSLSocket:
    tls_sock = ctx.wrap_socket(_connect(port, source), server_hostname="hearth")
    tls_sock.sendall(TICKET)
    return tls_sock


# A command the echo server sends straight back, so that bytes come back through the tunnel.
ALIGNMENT = bytes([Cmd.GET_ALIGNMENT]) + struct.pack("<QI", 4, 0)  # of device 0


def test_handshakes_past_the_cap_are_closed_at_once_and_other_sources_still_get_in(tunnel) -> None:
    server, ctx, _ = tunnel
    flood = _flood(server.port, 3 * listener.MAX_HANDSHAKES_PER_SOURCE)
    try:
        closed = sum(_gone(flood, 0.5))
        # Only one source's share is held while it says nothing; the rest are gone at once.
        assert closed >= len(flood) - listener.MAX_HANDSHAKES_PER_SOURCE, closed
        # A paired host at another address is not held up by the flood.
        with _open_tunnel(server.port, ctx, "127.0.0.7") as good:
            good.sendall(ALIGNMENT)
            assert good.recv(9)
    finally:
        _close_all(flood)


def test_a_ticket_dripped_a_byte_at_a_time_gets_one_deadline_not_one_per_byte(tunnel) -> None:
    server, ctx, _ = tunnel
    tls_sock = ctx.wrap_socket(_connect(server.port), server_hostname="hearth")
    started = time.monotonic()
    closed_after = None
    with tls_sock:
        for byte in TICKET[:-1]:
            try:
                tls_sock.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            if _closed_soon(tls_sock, 0.5):
                closed_after = time.monotonic() - started
                break
    # Each byte came well within any per-read timeout; the whole ticket never did.
    assert closed_after is not None, "the dripping connection was kept for the whole ticket"
    assert closed_after < listener.HANDSHAKE_DEADLINE_S + 2.0, closed_after


def test_a_reservation_has_at_most_its_share_of_tunnel_connections(tunnel) -> None:
    server, ctx, links = tunnel
    assert links.limit == 2
    kept = [_open_tunnel(server.port, ctx) for _ in range(2)]
    try:
        for sock in kept:
            sock.sendall(ALIGNMENT)
            assert sock.recv(9)
        with _open_tunnel(server.port, ctx) as third:
            assert _closed_soon(third, 3.0), "a third connection got through"
    finally:
        for sock in kept:
            sock.close()
    # Once they close, their places come back.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not links.claim():
        time.sleep(0.05)
    links.unclaim()
    with _open_tunnel(server.port, ctx) as again:
        again.sendall(ALIGNMENT)
        assert again.recv(9)


# Runs a tunnel endpoint with almost no file descriptors to spare: connections the parent holds open
# use them up, so the endpoint's accept fails with EMFILE.
EMFILE_CHILD = r"""
import os, resource, sys
from hearth.mesh import tls
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.tunnel import TunnelServer

donor = Identity("donor", *make_certificate(), "file")
ctx = tls.server_context(donor, [])
server = TunnelServer("127.0.0.1", lambda: ctx, lambda peer, ticket: None)
spare = int(sys.argv[1])
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + spare, hard))
print(server.port, flush=True)
sys.stdin.read()
"""


def _answers_tls(port: int, within: float) -> bool:
    """Whether a TLS client hears back from ``port`` (a ServerHello, or an alert) within ``within`` s."""
    raw = _connect(port, "127.0.0.9")
    raw.settimeout(within)
    try:
        with tls.pairing_client_context().wrap_socket(raw, server_hostname="hearth") as tls_sock:
            tls_sock.recv(1)  # the server refuses our certificate here, in TLS 1.3
        return True
    except TimeoutError:
        return False
    except (OSError, ssl.SSLError):
        return True


def test_the_tunnel_accepts_again_after_running_out_of_file_descriptors() -> None:
    spare = 4
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'app'}{os.pathsep}{ROOT}"}
    child = subprocess.Popen(
        [sys.executable, "-c", EMFILE_CHILD, str(spare)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    flood: list[socket.socket] = []
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        # Each from an address of its own, so that the gate admits them all: they use up the spare
        # descriptors, and the next accept fails.
        for i in range(3 * spare):
            flood.append(_connect(port, f"127.0.1.{i + 1}"))
        time.sleep(1.0)
        for sock in flood:
            sock.close()
        flood.clear()
        # Once the descriptors are back (the dripping connections gone), a new connection is served.
        assert _answers_tls(port, within=listener.HANDSHAKE_DEADLINE_S + 3), "the accept loop is gone"
    finally:
        for sock in flood:
            sock.close()
        child.kill()
        _, err = child.communicate(timeout=10)
    assert "Traceback" not in err, err


def test_the_relay_copies_sockets_whose_descriptors_are_above_1024() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1600:
        pytest.skip(f"the descriptor limit here ({soft}) does not reach past 1024")
    echo = Echo()
    high: list[socket.socket] = []
    try:
        with socket.create_server(("127.0.0.1", 0)) as lsock:
            client = socket.create_connection(lsock.getsockname(), timeout=5)
            relay_client, _ = lsock.accept()
        relay_server = echo.connect()
        for n, sock in enumerate((relay_client, relay_server)):
            fd = os.dup2(sock.fileno(), 1500 + n)
            sock.close()
            high.append(socket.socket(fileno=fd))
        for sock in high:
            sock.settimeout(None)
        ended: list[str] = []
        thread = threading.Thread(target=lambda: ended.append(relay(high[0], high[1])), daemon=True)
        thread.start()
        with client:
            client.sendall(b"above select's limit")
            assert client.recv(64) == b"above select's limit"
        thread.join(5)
        assert ended == ["client closed"], ended
    finally:
        echo.close()


class Mute:
    """A TCP server that reads everything and never answers: a worker that owes every answer."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        with contextlib.suppress(OSError):
            conn, _ = self.sock.accept()
            with conn:
                while conn.recv(1 << 20):
                    pass

    def connect(self) -> socket.socket:
        return socket.create_connection(self.sock.getsockname(), timeout=5)


def test_a_host_that_never_waits_for_its_answers_is_cut_off_before_the_node_holds_too_much(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hearth.mesh import tunnel

    # A smaller bound than the real one, for the test's speed: the same check.
    monkeypatch.setattr(tunnel, "MAX_HELD_BYTES", 256 * 1024)
    mute = Mute()
    with socket.create_server(("127.0.0.1", 0)) as lsock:
        client = socket.create_connection(lsock.getsockname(), timeout=5)
        relay_client, _ = lsock.accept()
    relay_server = mute.connect()
    for sock in (relay_client, relay_server):
        sock.settimeout(None)
    filt = RpcFilter(Ledger(1 << 20), graph_rules())
    ended: list[str] = []
    thread = threading.Thread(
        target=lambda: ended.append(relay(relay_client, relay_server, filt, threading.Lock())), daemon=True
    )
    thread.start()
    # GET_ALIGNMENT is answered: each adds an answer owed; twice what the node keeps track of.
    commands = 2 * tunnel.MAX_HELD_BYTES // tunnel.REPLY_RECORD_BYTES
    with client:
        with contextlib.suppress(OSError):
            for _ in range(commands // 100 + 1):
                client.sendall(ALIGNMENT * 100)
        thread.join(10)
    assert ended and ended[0].startswith("refused"), ended
    mute.sock.close()


def test_the_dry_runs_stand_ins_hold_few_connections_and_drop_the_silent() -> None:
    from hearth.engine import dry_run

    stand_ins = dry_run._StandIns()
    (endpoint,) = stand_ins.endpoints(1)
    port = int(endpoint.rsplit(":", 1)[1])
    flood = _flood(port, 3 * dry_run.STAND_IN_CONNECTIONS)
    try:
        started = time.monotonic()
        closed = _gone(flood, 0.3)
        assert sum(closed) >= len(flood) - dry_run.STAND_IN_CONNECTIONS, sum(closed)
        # The ones held, saying nothing, go at the handshake's deadline.
        held = [sock for sock, gone in zip(flood, closed, strict=True) if not gone]
        left = listener.HANDSHAKE_DEADLINE_S + 2 - (time.monotonic() - started)
        assert held and all(_gone(held, max(left, 0.1)))
    finally:
        _close_all(flood)
    # llama.cpp's own question is still answered.
    with _connect(port) as sock:
        sock.sendall(bytes([Cmd.HELLO]) + struct.pack("<Q", 24) + bytes(24))
        sock.settimeout(5)
        assert len(sock.recv(64)) >= 8


def test_a_connection_collected_while_the_gate_is_busy_gives_its_place_back() -> None:
    gate = listener.Gate()
    admission = gate.admit("127.0.0.1")
    assert admission is not None
    done = threading.Event()

    def collected_inside_admit() -> None:
        # The garbage collector may run inside admit() (it allocates), on the event loop's thread,
        # and finalise a connection there: its place comes back without waiting on that very lock.
        with gate._lock:
            admission.close()
        done.set()

    threading.Thread(target=collected_inside_admit, daemon=True).start()
    assert done.wait(5), "the gate deadlocked on its own lock"
    assert gate.open() == 0 and gate.in_handshake() == 0
