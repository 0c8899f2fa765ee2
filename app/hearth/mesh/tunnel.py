"""The RPC tunnel: a byte stream from llama.cpp on the host to a worker's RPC server, over mutual TLS.

Host side: one listener on 127.0.0.1 per reserved worker, serving only processes of this user;
every connection llama.cpp opens there becomes a TLS connection to the worker's node, which presents
the reservation's ticket. Worker side: the node checks the peer's pinned certificate and the ticket,
then gets a connection to the worker's server (from inside the worker's own network namespace where
the OS has them) and relays through the RPC filter.

The relays run on plain threads with blocking sockets: one thread per connection, both directions,
so that no event loop sits between a token and the wire. TCP_NODELAY on every hop.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hearth.core.rpc_filter import RpcFilter, RpcViolation
from hearth.mesh.local_peer import same_user

log = logging.getLogger(__name__)
TICKET_BYTES = 32
HANDSHAKE_TIMEOUT_S = 10.0
CHUNK = 64 * 1024


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed before the ticket")
        data += chunk
    return data


def _read_burst(sock: socket.socket, buf: memoryview) -> int:
    """Fill ``buf`` with what one wake-up can take: a first read, then whatever else is already there.

    llama.cpp writes a command as several small sends; forwarding them as one write saves wake-ups at
    every later hop. The buffer is reused: allocating a fresh one per read was measured to cost more
    than everything else the relay does.
    """
    size = sock.recv_into(buf)
    if not size:
        return 0
    plain = not isinstance(sock, ssl.SSLSocket)
    while size < len(buf):
        try:
            if plain:
                more = sock.recv_into(buf[size:], 0, socket.MSG_DONTWAIT)
            elif sock.pending():  # type: ignore[attr-defined]
                more = sock.recv_into(buf[size:])
            else:
                break
        except (BlockingIOError, ssl.SSLWantReadError):
            break
        if not more:
            break
        size += more
    return size


def relay(
    client: socket.socket,
    server: socket.socket,
    filt: RpcFilter | None = None,
    lock: threading.Lock | None = None,
) -> str:
    """Copy bytes both ways until one side closes; returns why it ended. ``lock`` guards ``filt``."""
    socks: list[socket.socket] = [client, server]
    guard = lock or contextlib.nullcontext()
    buffers = {client: memoryview(bytearray(CHUNK)), server: memoryview(bytearray(CHUNK))}
    try:
        while True:
            ready: list[socket.socket] = [s for s in socks if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready, _, _ = select.select(socks, [], [])
            for sock in ready:
                buf = buffers[sock]
                size = _read_burst(sock, buf)
                if not size:
                    return "client closed" if sock is client else "server closed"
                data = buf[:size]
                if sock is client:
                    with guard:
                        to_server, to_client = filt.from_client(data) if filt else (data, b"")
                    if to_server:
                        server.sendall(to_server)
                    if to_client:
                        client.sendall(to_client)
                else:
                    with guard:
                        out = filt.from_server(data) if filt else data
                    client.sendall(out)
    except RpcViolation as exc:
        log.warning("RPC connection refused: %s", exc)
        return f"refused: {exc}"
    except (OSError, ssl.SSLError) as exc:
        return f"broken: {exc}"
    finally:
        if filt is not None:
            with guard:
                filt.close()
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()


@dataclass(frozen=True)
class Grant:
    """What a valid ticket opens: a way to the worker's server and the rules for what passes."""

    connect: Callable[[], socket.socket]
    make_filter: Callable[[], RpcFilter]
    lock: threading.Lock


class _Listener:
    def __init__(self, host: str) -> None:
        self.sock = socket.create_server((host, 0))
        self.port = int(self.sock.getsockname()[1])
        self._closed = False

    def serve(self, handle: Callable[[socket.socket, tuple[str, int]], None], name: str) -> None:
        def loop() -> None:
            while not self._closed:
                try:
                    conn, addr = self.sock.accept()
                except OSError:
                    return
                threading.Thread(target=handle, args=(conn, addr), name=name, daemon=True).start()

        threading.Thread(target=loop, name=f"{name}-accept", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.close()


class TunnelServer:
    """The worker node's tunnel endpoint."""

    def __init__(
        self,
        host: str,
        context: Callable[[], ssl.SSLContext],
        authorize: Callable[[bytes, bytes], Grant | None],
    ) -> None:
        self._context = context
        self._authorize = authorize
        self._listener = _Listener(host)
        self.port = self._listener.port
        self._listener.serve(self._handle, "hearth-tunnel-in")

    def _handle(self, raw: socket.socket, addr: tuple[str, int]) -> None:
        _nodelay(raw)
        raw.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            tls = self._context().wrap_socket(raw, server_side=True)
            peer = tls.getpeercert(binary_form=True)
            if not peer:
                raise ConnectionError("no client certificate")
            grant = self._authorize(peer, _recv_exact(tls, TICKET_BYTES))
            if grant is None:
                raise ConnectionError("no reservation for this device and ticket")
            upstream = grant.connect()
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            log.info("tunnel from %s refused: %s", addr[0], exc)
            with contextlib.suppress(OSError):
                raw.close()
            return
        _nodelay(upstream)
        tls.settimeout(None)
        upstream.settimeout(None)
        relay(tls, upstream, grant.make_filter(), grant.lock)

    def close(self) -> None:
        self._listener.close()


class LocalEndpoint:
    """A 127.0.0.1 listener for llama.cpp on this machine: each connection from a process of this
    user is relayed to a fresh ``open_upstream()``; other accounts' connections are closed unread."""

    def __init__(self, open_upstream: Callable[[], socket.socket], name: str) -> None:
        self.name = name
        self._open_upstream = open_upstream
        self.failures: list[str] = []
        self._listener = _Listener("127.0.0.1")
        self.port = self._listener.port
        self._listener.serve(self._handle, "hearth-tunnel-out")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _handle(self, local: socket.socket, addr: tuple[str, int]) -> None:
        if not same_user(local):
            log.warning("refused a connection to the tunnel for %s from another local account", self.name)
            with contextlib.suppress(OSError):
                local.close()
            return
        _nodelay(local)
        try:
            upstream = self._open_upstream()
            # Blocking: a timeout would make every read poll first, even the relay's non-waiting ones.
            upstream.settimeout(None)
            _nodelay(upstream)
        except (OSError, ssl.SSLError) as exc:
            self.failures.append(f"cannot reach {self.name}: {exc}")
            with contextlib.suppress(OSError):
                local.close()
            return
        ended = relay(local, upstream)
        if ended.startswith(("broken", "server closed")):
            self.failures.append(f"{self.name}: {ended}")

    def close(self) -> None:
        self._listener.close()


class TunnelClient(LocalEndpoint):
    """The host's end for one worker: each connection becomes a TLS connection to the worker's node,
    which is shown the reservation's ticket."""

    def __init__(
        self,
        remote: tuple[str, int],
        context: ssl.SSLContext,
        ticket: bytes,
        name: str,
        local_host: str | None = None,
    ) -> None:
        self.remote = remote
        self._source = (local_host, 0) if local_host else None
        self._context = context
        self._ticket = ticket
        super().__init__(self._open_tls, name)

    def _open_tls(self) -> socket.socket:
        raw = socket.create_connection(self.remote, timeout=HANDSHAKE_TIMEOUT_S, source_address=self._source)
        try:
            _nodelay(raw)
            tls = self._context.wrap_socket(raw, server_hostname="hearth")
            tls.sendall(self._ticket)
            tls.settimeout(None)
        except BaseException:
            raw.close()
            raise
        return tls
