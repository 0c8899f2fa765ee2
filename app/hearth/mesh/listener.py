"""Listening sockets that a flood of connections does not take down.

Anyone who can reach a port can open connections to it and then send nothing, or a byte now and then.
Unchecked, each such connection holds a file descriptor (and, on a blocking listener, a thread) for as
long as it likes, and once the process runs out of descriptors an accept loop that gives up on the
first error ends for good. So every listener here:

- gives a connection's handshake (what must happen before it is known whom the connection serves:
  TLS and a ticket, a websocket upgrade, a stand-in's first question) one deadline for the whole of
  it, not one per read;
- lets only so many handshakes run at once, overall and per source address, and closes a connection
  past either cap as soon as it is accepted, before a byte is read or a thread started; optionally
  caps the connections open at once too. A source is an IPv4 address, or an IPv6 address's /64
  (``source_key``): one IPv6 network is usually given a whole /64, so a caller on it can pick from
  2^64 addresses, and counting each apart would let it past every per-source cap;
- retries an accept that fails (out of descriptors, buffers or memory; a connection aborted before
  it was taken) with back-off, logging once per burst, and goes on.

``Listener`` is a blocking listener with a thread per admitted connection (the tunnel, the dry run's
stand-ins). ``server_sockets`` makes listening sockets for an asyncio server (the node's port) whose
``accept`` applies the same gate; the event loop already backs off when accept runs out of descriptors.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import socket
import struct
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
# One deadline for a whole handshake: a TLS handshake and a ticket take milliseconds on a LAN.
HANDSHAKE_DEADLINE_S = 5.0
# Handshakes under way at once on one listener, overall and from one source address.
MAX_HANDSHAKES = 64
MAX_HANDSHAKES_PER_SOURCE = 8
# An accept that fails is tried again after this, doubling up to the most.
ACCEPT_BACKOFF_S = 0.05
ACCEPT_BACKOFF_MAX_S = 1.0
# A burst of refusals is said once: when it starts, and when none came for this long.
QUIET_S = 10.0
# What an asyncio server's accept() closes in one call before it leaves the rest for the next round
# of the event loop, so that a flood never holds the loop for long.
REFUSALS_PER_ACCEPT = 64
# Why accept() may fail while the listener is fine: the process or the system is out of something,
# or a connection went away before it was taken. Each passes, so each is retried.
TRANSIENT_ACCEPT_ERRORS = frozenset(
    code
    for code in (
        getattr(errno, name, None)
        for name in (
            "EMFILE",
            "ENFILE",
            "ENOBUFS",
            "ENOMEM",
            "ECONNABORTED",
            "EPROTO",
            "EPERM",
            "ENETDOWN",
            "ENONET",
            "EHOSTDOWN",
            "EHOSTUNREACH",
            "ENETUNREACH",
            "ETIMEDOUT",
        )
    )
    if code is not None
)


# How much of an IPv6 address names its source: the /64 a network hands out (SLAAC, privacy
# addresses), all of it at the disposal of whoever is on it.
IPV6_SOURCE_PREFIX = 64


def source_key(address: str) -> str:
    """What the per-source caps count ``address`` (as ``accept`` gives it) as: an IPv4 address as
    itself, an IPv4-mapped IPv6 address as its IPv4 address, any other IPv6 address as its /64
    (``2001:db8:1:2::/64``; a zone such as ``%eth0`` does not count), but ``::1`` as itself.
    Anything else, as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.is_loopback:  # ::1 is all of its /64 that is loopback
        return "::1"
    return str(ipaddress.IPv6Network((int(ip), IPV6_SOURCE_PREFIX), strict=False))


class Admission:
    """One connection's place at its gate: in its handshake until ``done``, open until ``close``.
    Both may be called more than once, from any thread."""

    def __init__(self, gate: Gate, source: str, deadline: float, peer: tuple[str, int] | None) -> None:
        self.source = source
        self.deadline = deadline
        self._gate = gate
        self._peer = peer
        self._in_handshake = True
        self._open = True

    def remaining(self) -> float:
        """Seconds left of the handshake's deadline; TimeoutError once there are none."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the handshake took too long")
        return left

    def done(self) -> None:
        """The handshake is over: the connection no longer counts against the handshake caps."""
        self._gate._leave(self, handshake_only=True)

    def close(self) -> None:
        self._gate._leave(self, handshake_only=False)


class Gate:
    """Who may start a handshake on a listener: at most ``handshakes`` at once, ``per_source`` of
    them from one address; with ``open_total`` / ``open_per_source``, also at most that many
    connections open at once. Thread-safe."""

    def __init__(
        self,
        handshakes: int = MAX_HANDSHAKES,
        per_source: int = MAX_HANDSHAKES_PER_SOURCE,
        *,
        open_total: int | None = None,
        open_per_source: int | None = None,
        deadline_s: float = HANDSHAKE_DEADLINE_S,
        name: str = "listener",
    ) -> None:
        self.handshakes = handshakes
        self.per_source = per_source
        self.open_total = open_total
        self.open_per_source = open_per_source
        self.deadline_s = deadline_s
        self.name = name
        self.refused = 0  # connections closed at once, ever
        # Reentrant: a connection collected by the garbage collector gives its place back from
        # wherever the collection runs, which may be inside ``admit`` on the same thread.
        self._lock = threading.RLock()
        self._in_handshake: Counter[str] = Counter()
        self._open: Counter[str] = Counter()
        self._by_peer: dict[tuple[str, int], Admission] = {}
        self._refusing = 0  # refused in the current burst; 0 when there is none
        self._last_refusal = 0.0

    def admit(self, source: str, peer: tuple[str, int] | None = None) -> Admission | None:
        """A place for a new connection from ``source`` (an address, counted as ``source_key`` says),
        or None: then close it at once. With ``peer`` (its address and port) it can be found again by
        ``handshake_done``."""
        source = source_key(source)
        now = time.monotonic()
        with self._lock:
            full = (
                sum(self._in_handshake.values()) >= self.handshakes
                or self._in_handshake[source] >= self.per_source
                or (self.open_total is not None and sum(self._open.values()) >= self.open_total)
                or (self.open_per_source is not None and self._open[source] >= self.open_per_source)
            )
            ended = 0
            if full:
                self.refused += 1
                self._refusing += 1
                self._last_refusal = now
                first = self._refusing == 1
            else:
                admission = Admission(self, source, now + self.deadline_s, peer)
                self._in_handshake[source] += 1
                self._open[source] += 1
                if peer is not None:
                    self._by_peer[peer] = admission
                if self._refusing and now - self._last_refusal >= QUIET_S:
                    ended, self._refusing = self._refusing, 0
        if full:
            if first:
                log.warning(
                    "%s: closing new connections at once (too many handshakes under way, or too many "
                    "connections from %s)",
                    self.name,
                    source,
                )
            return None
        if ended:
            log.info("%s: admitting connections again after closing %d", self.name, ended)
        return admission

    def handshake_done(self, peer: tuple[str, int] | Any) -> None:
        """The handshake of the connection from ``peer`` (as ``admit`` was given it) is over."""
        if not isinstance(peer, tuple) or len(peer) < 2:
            return
        with self._lock:
            admission = self._by_peer.get((peer[0], peer[1]))
        if admission is not None:
            admission.done()

    def in_handshake(self) -> int:
        with self._lock:
            return sum(self._in_handshake.values())

    def open(self) -> int:
        with self._lock:
            return sum(self._open.values())

    def _leave(self, admission: Admission, handshake_only: bool) -> None:
        with self._lock:
            source = admission.source
            if admission._in_handshake:
                admission._in_handshake = False
                self._in_handshake[source] -= 1
                if self._in_handshake[source] <= 0:
                    del self._in_handshake[source]
                if admission._peer is not None:
                    self._by_peer.pop(admission._peer, None)
            if not handshake_only and admission._open:
                admission._open = False
                self._open[source] -= 1
                if self._open[source] <= 0:
                    del self._open[source]


def _drop(sock: socket.socket) -> None:
    """Close a connection that was refused: a reset frees both ends at once (no TIME_WAIT here)."""
    with contextlib.suppress(OSError, struct.error):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class AcceptBackoff:
    """How long to wait after a failed accept, and logging once per burst of failures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures = 0  # in the current burst
        self._delay = ACCEPT_BACKOFF_S

    def failed(self, exc: OSError) -> float:
        """Seconds to wait before accepting again."""
        self.failures += 1
        if self.failures == 1:
            log.warning("%s: cannot accept connections (%s); trying again with back-off", self.name, exc)
        delay = self._delay
        self._delay = min(ACCEPT_BACKOFF_MAX_S, self._delay * 2)
        return delay

    def accepted(self) -> None:
        if self.failures:
            log.info("%s: accepting connections again after %d failed accepts", self.name, self.failures)
        self.failures = 0
        self._delay = ACCEPT_BACKOFF_S


Handler = Callable[[socket.socket, tuple[str, int], Admission], None]


class Listener:
    """A blocking TCP listener on ``host`` (an ephemeral port) that gives each connection its gate
    admits a thread of its own; the handler calls ``admission.done()`` once the handshake is over
    and keeps to ``admission.remaining()`` until then."""

    def __init__(self, host: str, gate: Gate | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, 0), family=family)
        self.port = int(self.sock.getsockname()[1])
        self.gate = gate or Gate()
        self._closed = threading.Event()

    def serve(self, handle: Handler, name: str) -> None:
        self.gate.name = name
        threading.Thread(
            target=self._accept_loop, args=(handle, name), name=f"{name}-accept", daemon=True
        ).start()

    def _accept_loop(self, handle: Handler, name: str) -> None:
        backoff = AcceptBackoff(name)
        while not self._closed.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError as exc:
                if self._closed.is_set():
                    return
                if exc.errno not in TRANSIENT_ACCEPT_ERRORS:
                    # Not one the kernel lists as passing; still no reason to stop serving for good.
                    log.debug("%s: accept failed: %s", name, exc)
                self._closed.wait(backoff.failed(exc))
                continue
            backoff.accepted()
            admission = self.gate.admit(addr[0])
            if admission is None:
                _drop(conn)
                continue
            try:
                threading.Thread(
                    target=self._run, args=(handle, conn, addr, admission), name=name, daemon=True
                ).start()
            except RuntimeError as exc:  # no thread to be had: the connection waits for none
                log.warning("%s: cannot start a thread for a connection: %s", name, exc)
                admission.close()
                _drop(conn)

    @staticmethod
    def _run(handle: Handler, conn: socket.socket, addr: tuple[str, int], admission: Admission) -> None:
        try:
            handle(conn, addr, admission)
        except Exception:
            log.exception("a connection from %s failed", addr[0])
            with contextlib.suppress(OSError):
                conn.close()
        finally:
            admission.close()

    def close(self) -> None:
        self._closed.set()
        # Shutting a listening socket down wakes an accept blocked on it (closing alone does not).
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


class _GatedConnection(socket.socket):
    """An accepted connection that gives its place at the gate back when it is closed."""

    admission: Admission | None = None

    def close(self) -> None:
        super().close()
        if self.admission is not None:
            self.admission.close()


class GatedServerSocket(socket.socket):
    """A listening socket for an asyncio server: its ``accept`` (which selector event loops call)
    closes connections the gate does not admit before the loop sees them. Windows' proactor loop
    accepts on its own, and there only the server's deadlines apply."""

    gate: Gate

    def accept(self) -> tuple[socket.socket, Any]:
        for _ in range(REFUSALS_PER_ACCEPT):
            fd, addr = self._accept()  # type: ignore[attr-defined]
            admission = self.gate.admit(addr[0], (addr[0], addr[1]))
            conn = _GatedConnection(self.family, self.type, self.proto, fileno=fd)
            if admission is None:
                _drop(conn)
                continue
            conn.admission = admission
            # Should the connection be dropped without close (never, in asyncio), its place comes back.
            weakref.finalize(conn, admission.close)
            if socket.getdefaulttimeout() is None and self.gettimeout():
                conn.setblocking(True)
            return conn, addr
        raise BlockingIOError(errno.EAGAIN, "refused a burst of connections; the rest next round")


def server_sockets(host: str | None, port: int, gate: Gate) -> list[socket.socket]:
    """Listening sockets on ``host`` (every interface when None: IPv4, and IPv6 where there is one,
    as asyncio's own server would) and ``port`` (0: one ephemeral port for all), gated by ``gate``."""
    if host is not None:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        return [_bind(family, address, gate)]
    # Only the node's own port comes here unbound to a host: its control channel and pairing endpoint,
    # both behind TLS (and mutual TLS for control), which face the household's network by design.
    first = _bind(socket.AF_INET, ("0.0.0.0", port), gate)
    sockets = [first]
    if socket.has_ipv6:
        try:
            sockets.append(_bind(socket.AF_INET6, ("::", first.getsockname()[1]), gate))
        except OSError as exc:  # no IPv6 here, or its port is taken: IPv4 serves
            log.debug("not listening on IPv6: %s", exc)
    return sockets


def _bind(family: int, address: Any, gate: Gate) -> socket.socket:
    sock = GatedServerSocket(family, socket.SOCK_STREAM)
    sock.gate = gate
    try:
        if os.name == "posix" and sys.platform != "cygwin":
            # As asyncio's servers do on POSIX: a restarted node gets its port back at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock
