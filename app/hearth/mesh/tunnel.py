"""The RPC tunnel: a byte stream from llama.cpp on the host to a worker's RPC server, over mutual TLS.

Host side: one listener on 127.0.0.1 per reserved worker, serving only processes of this user;
every connection llama.cpp opens there becomes a TLS connection to the worker's node, which presents
the reservation's ticket. Worker side: the node checks the peer's pinned certificate and the ticket,
then gets a connection to the worker's server (from inside the worker's own network namespace where
the OS has them) and relays through the RPC filter.

The relays run on plain threads with blocking sockets: one thread per connection, both directions,
so that no event loop sits between a token and the wire. TCP_NODELAY on every hop. The listeners
(``mesh.listener``) start a thread only for a connection their gate admits: few handshakes at once,
each within one deadline; a reservation has at most so many connections open. Each relayed
connection is a ``Link`` that other threads can read (does the client wait on the server?) and cut:
a thread blocked in a socket call is woken only by shutting the socket down, not by closing it.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hearth.core.rpc_filter import RpcFilter, RpcViolation
from hearth.core.rpc_graph import MAX_GRAPH_BYTES
from hearth.core.units import MIB
from hearth.mesh.listener import Admission, Gate, Listener
from hearth.mesh.local_peer import same_user

log = logging.getLogger(__name__)
TICKET_BYTES = 32
HANDSHAKE_TIMEOUT_S = 10.0  # the host's side: connecting to a worker's node and its TLS handshake
CHUNK = 64 * 1024
# What one relayed connection's filter may hold in this process at once: the frames it reads whole
# (the largest, a graph, is MAX_GRAPH_BYTES) and a record per answer the server still owes (a host
# that never reads its answers would otherwise add one per 9-byte command it sends). A connection past
# it is ended. With the relay's own two CHUNK buffers, this is all a connection buffers in the node.
MAX_HELD_BYTES = MAX_GRAPH_BYTES + 8 * MIB
REPLY_RECORD_BYTES = 200  # what the filter keeps per answer owed, as Python objects
# The host's listener for one worker: llama.cpp opens one connection per worker and process.
LOCAL_CONNECTIONS = 16
# poll(2) where there is one: no limit on descriptor numbers (select's is 1024) and no descriptor of
# its own, unlike epoll or kqueue.
_Selector: type[selectors.BaseSelector] = getattr(selectors, "PollSelector", selectors.DefaultSelector)


def _nodelay(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _recv_exact(sock: socket.socket, n: int, admission: Admission) -> bytes:
    data = b""
    while len(data) < n:
        # What is left of the handshake's one deadline, so that a byte now and then gains nothing.
        sock.settimeout(admission.remaining())
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


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown even for TLS: SSLSocket's drops its TLS state under the relay thread.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Link:
    """One relayed connection, as other threads see it: whether its client waits on its server, how
    much the server has sent, and a way to end it at once."""

    def __init__(
        self,
        client: socket.socket,
        server: socket.socket,
        filt: RpcFilter | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.client = client
        self.server = server
        self.filt = filt
        self.lock = lock or threading.Lock()
        self.received = 0  # bytes read from the server
        # The side a send of the relay's is blocked on, while it is; None while it reads.
        self.sending_to: socket.socket | None = None
        self.was_cut = False

    def awaiting_server(self) -> bool:
        """Whether the client waits on the server: an answer the filter knows is owed, or bytes the
        server does not take. While the relay waits to send to the client, the server waits on it."""
        sending_to = self.sending_to
        if sending_to is not None:
            return sending_to is self.server
        if self.filt is None:
            return False
        with self.lock:
            return self.filt.awaiting_server()

    def cut(self) -> None:
        """End the connection now: the relay thread wakes from whatever call it is in, and closes both
        sides, so that each peer sees the connection close."""
        self.was_cut = True
        _shut(self.server)
        _shut(self.client)


class Links:
    """The connections relayed for one purpose (a reservation, a host's listener), shared between
    their relay threads and whoever watches them."""

    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._links: set[Link] = set()
        self.limit = limit  # connections open at once, counted from ``claim`` to ``unclaim``
        self._claimed = 0

    def claim(self) -> bool:
        """A place for one more connection, if there is one under ``limit``; ``unclaim`` gives it back."""
        with self._lock:
            if self.limit is not None and self._claimed >= self.limit:
                return False
            self._claimed += 1
            return True

    def unclaim(self) -> None:
        with self._lock:
            self._claimed -= 1

    def add(self, link: Link) -> None:
        with self._lock:
            self._links.add(link)

    def discard(self, link: Link) -> None:
        with self._lock:
            self._links.discard(link)

    def snapshot(self) -> list[Link]:
        with self._lock:
            return list(self._links)

    def awaiting_server(self) -> bool:
        """Whether any client waits on its server."""
        return any(link.awaiting_server() for link in self.snapshot())

    def received(self) -> int:
        """Bytes the servers of the open connections have sent (it can fall as connections end)."""
        return sum(link.received for link in self.snapshot())

    def cut(self) -> int:
        """End every connection now; returns how many there were."""
        links = self.snapshot()
        for link in links:
            link.cut()
        return len(links)


def relay(
    client: socket.socket,
    server: socket.socket,
    filt: RpcFilter | None = None,
    lock: threading.Lock | None = None,
    link: Link | None = None,
) -> str:
    """Copy bytes both ways until one side closes; returns why it ended. ``lock`` guards ``filt``;
    ``link``, when given, is kept up to date for other threads."""
    socks: list[socket.socket] = [client, server]
    guard = lock or contextlib.nullcontext()
    buffers = {client: memoryview(bytearray(CHUNK)), server: memoryview(bytearray(CHUNK))}
    state = link or Link(client, server)
    selector = _Selector()
    try:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ, sock)
        while True:
            ready: list[socket.socket] = [s for s in socks if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                ready = [key.data for key, _ in selector.select()]
            for sock in ready:
                buf = buffers[sock]
                size = _read_burst(sock, buf)
                if not size:
                    return "client closed" if sock is client else "server closed"
                data = buf[:size]
                if sock is client:
                    with guard:
                        to_server, to_client = filt.from_client(data) if filt else (data, b"")
                        if filt is not None and _held(filt) > MAX_HELD_BYTES:
                            raise RpcViolation(
                                f"the host sent more than {MAX_HELD_BYTES // MIB} MiB of commands that "
                                "the worker has not answered yet"
                            )
                    if to_server:
                        state.sending_to = server
                        server.sendall(to_server)
                    if to_client:
                        state.sending_to = client
                        client.sendall(to_client)
                else:
                    state.received += size
                    with guard:
                        out = filt.from_server(data) if filt else data
                    state.sending_to = client
                    client.sendall(out)
                state.sending_to = None
    except RpcViolation as exc:
        log.warning("RPC connection refused: %s", exc)
        return f"refused: {exc}"
    except (OSError, ssl.SSLError) as exc:
        return f"broken: {exc}"
    finally:
        state.sending_to = None
        selector.close()
        if filt is not None:
            with guard:
                filt.close()
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()


def _held(filt: RpcFilter) -> int:
    """What a connection's filter holds in this process (its own queues, read here so that the relay
    can end a connection that grows them without bound)."""
    return len(filt._in) + len(filt._out) + REPLY_RECORD_BYTES * len(filt._replies)


@dataclass(frozen=True)
class Grant:
    """What a valid ticket opens: a way to the worker's server and the rules for what passes."""

    connect: Callable[[], socket.socket]
    make_filter: Callable[[], RpcFilter]
    lock: threading.Lock
    links: Links  # where the connections it opens are kept while they last


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
        # Anyone on the network reaches this port: handshakes are few at once and over quickly.
        self._listener = Listener(host, Gate())
        self.port = self._listener.port
        self._listener.serve(self._handle, "hearth-tunnel-in")

    def _handle(self, raw: socket.socket, addr: tuple[str, int], admission: Admission) -> None:
        _nodelay(raw)
        claimed: Links | None = None
        paired = False  # the TLS handshake passed: the peer holds a paired device's key
        try:
            # CPython's TLS handshake keeps to one deadline for all its reads; the ticket's reads
            # share what is left of it.
            raw.settimeout(admission.remaining())
            tls = self._context().wrap_socket(raw, server_side=True)
            paired = True
            peer = tls.getpeercert(binary_form=True)
            if not peer:
                raise ConnectionError("no client certificate")
            grant = self._authorize(peer, _recv_exact(tls, TICKET_BYTES, admission))
            if grant is None:
                raise ConnectionError("no reservation for this device and ticket")
            admission.done()
            if not grant.links.claim():
                raise ConnectionError(
                    f"the reservation has {grant.links.limit} tunnel connections open already"
                )
            claimed = grant.links
            upstream = grant.connect()
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            if claimed is not None:
                claimed.unclaim()
            # Anyone can fail a handshake, as often as they like: only a paired host's refusal is news.
            log.log(logging.INFO if paired else logging.DEBUG, "tunnel from %s refused: %s", addr[0], exc)
            with contextlib.suppress(OSError):
                raw.close()
            return
        _nodelay(upstream)
        tls.settimeout(None)
        upstream.settimeout(None)
        filt = grant.make_filter()
        link = Link(tls, upstream, filt, grant.lock)
        grant.links.add(link)
        try:
            relay(tls, upstream, filt, grant.lock, link)
        finally:
            grant.links.discard(link)
            grant.links.unclaim()

    def close(self) -> None:
        self._listener.close()


class LocalEndpoint:
    """A 127.0.0.1 listener for llama.cpp on this machine: each connection from a process of this
    user is relayed to a fresh ``open_upstream()``; other accounts' connections are closed unread."""

    def __init__(self, open_upstream: Callable[[], socket.socket], name: str) -> None:
        self.name = name
        self._open_upstream = open_upstream
        self.failures: list[str] = []
        self.links = Links()
        # Only this machine reaches it, and llama.cpp opens one connection at a time; a local flood
        # still gets no more than this many descriptors and threads.
        gate = Gate(LOCAL_CONNECTIONS, LOCAL_CONNECTIONS, open_total=LOCAL_CONNECTIONS)
        self._listener = Listener("127.0.0.1", gate)
        self.port = self._listener.port
        self._listener.serve(self._handle, "hearth-tunnel-out")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _handle(self, local: socket.socket, addr: tuple[str, int], admission: Admission) -> None:
        if not same_user(local):
            log.warning("refused a connection to the tunnel for %s from another local account", self.name)
            with contextlib.suppress(OSError):
                local.close()
            return
        admission.done()
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
        link = Link(local, upstream)
        self.links.add(link)
        try:
            ended = relay(local, upstream, link=link)
        finally:
            self.links.discard(link)
        # A cut connection's failure is the reason it was cut, recorded already.
        if link.was_cut:
            return
        if ended == "server closed":
            self.failures.append(f"{self.name}: the connection to its worker closed")
        elif ended.startswith("broken: "):
            detail = ended.removeprefix("broken: ")
            self.failures.append(f"{self.name}: the connection to its worker broke ({detail})")

    def cut(self, reason: str) -> bool:
        """End every connection now, so that llama.cpp fails at once instead of waiting on a device
        that cannot answer; ``reason`` is recorded first. Whether there was any."""
        if not self.links.snapshot():
            return False
        self.failures.append(reason)
        return self.links.cut() > 0

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
