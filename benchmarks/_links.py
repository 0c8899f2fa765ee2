"""A home network on this one machine, for benchmarks: links with a round trip, jitter and a rate.

This kernel's ``tc`` has no ``netem``, so delay and jitter are added in user space, by a relay that
holds every chunk it carries until the link would have delivered it: after the bytes ahead of it have
gone out at the link's rate, plus the one-way delay (half the round trip, give or take half the jitter),
and never before a chunk sent earlier (TCP keeps order). The relay paces the rate itself too, so one
profile describes a link whole and the same relay shapes any path, with or without namespaces.

:class:`Household` gives each device a network namespace of its own (``unshare -n``, as root), its own
address (127.0.0.2, .3, …) and no route to the others but the relays it sets up: whatever the nodes
dial, pairing, control channels and tunnels alike, crosses a shaped link, and nothing leaves the
machine. :func:`shaped` puts a link in front of endpoints on this namespace's loopback, for the raw
RPC path and for benchmarks that need no namespaces.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

CLONE_NEWNET = 0x40000000
CHUNK = 1 << 16

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    name: str
    rtt_s: float
    jitter_s: float  # the round trip varies by up to this much either way
    bits_per_s: float

    def one_way_s(self, rng: random.Random) -> float:
        return max(0.0, (self.rtt_s + rng.uniform(-self.jitter_s, self.jitter_s)) / 2)


PROFILES = {
    "1gbe": Profile("1 GbE", 0.3e-3, 0.0, 1e9),
    "wifi": Profile("Wi-Fi", 4e-3, 2e-3, 300e6),
    "bad-wifi": Profile("bad Wi-Fi", 15e-3, 10e-3, 50e6),
}


class _Direction:
    """One direction of a link: when each chunk arrives at the far end."""

    def __init__(self, profile: Profile, seed: int) -> None:
        self.profile = profile
        self.rng = random.Random(seed)
        self.sent = 0.0  # when the link has finished putting out what it was given
        self.last = 0.0  # when the previous chunk arrived

    def arrival(self, n: int, now: float) -> float:
        self.sent = max(now, self.sent) + n * 8 / self.profile.bits_per_s
        self.last = max(self.last, self.sent + self.profile.one_way_s(self.rng))
        return self.last


def _carry(src: socket.socket, dst: socket.socket, direction: _Direction) -> None:
    """Read from ``src`` and deliver to ``dst`` as the link would: a reader and a sender thread, so
    that reading on (and the sender's clock) never waits for a chunk that is still on its way."""
    held: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()

    def send() -> None:
        try:
            while (item := held.get()) is not None:
                due, data = item
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src, dst)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        while data := src.recv(CHUNK):
            held.put((direction.arrival(len(data), time.perf_counter()), data))
    except OSError:
        pass
    finally:
        held.put(None)
        sender.join()  # what is still on its way arrives before the sockets may be closed


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _setns(fd: int | None) -> None:
    """Move the calling thread (only it) into the network namespace ``fd``; None: stay."""
    if fd is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns: " + os.strerror(ctypes.get_errno()))


def in_namespace(fd: int | None, make: Callable[[], T]) -> T:
    """``make()`` called in namespace ``fd`` (a socket stays in the namespace it was made in)."""
    out: list[T | BaseException] = []

    def run() -> None:
        try:
            _setns(fd)
            out.append(make())
        except BaseException as exc:  # handed to the caller
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    result = out[0]
    if isinstance(result, BaseException):
        raise result
    return result


class Relay:
    """Listens at ``listen`` in namespace ``listen_ns`` and carries every connection over a shaped
    link to ``target`` in namespace ``target_ns``. Seeds differ per connection and direction, so
    jitter is reproducible from run to run."""

    def __init__(
        self,
        profile: Profile,
        listen: tuple[str, int],
        target: tuple[str, int],
        listen_ns: int | None = None,
        target_ns: int | None = None,
    ) -> None:
        self.profile = profile
        self.target = target
        self.target_ns = target_ns
        self.listener = in_namespace(listen_ns, lambda: socket.create_server(listen))
        self.port = int(self.listener.getsockname()[1])
        self._count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                self._count += 1
                threading.Thread(target=self._serve, args=(conn, self._count), daemon=True).start()

    def _serve(self, conn: socket.socket, n: int) -> None:
        try:
            _setns(self.target_ns)
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            conn.close()
            return
        for sock in (conn, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(
            target=_carry, args=(upstream, conn, _Direction(self.profile, 2 * n + 1)), daemon=True
        )
        back.start()
        _carry(conn, upstream, _Direction(self.profile, 2 * n))
        back.join()  # the first direction to end shut both sockets down, so the other ends too
        conn.close()
        upstream.close()

    def close(self) -> None:
        self.listener.close()


@contextlib.contextmanager
def shaped(endpoints: list[str], profile: Profile | None) -> Iterator[list[str]]:
    """``endpoints`` (``host:port`` here) behind a link each; None: the endpoints as they are."""
    if profile is None:
        yield endpoints
        return
    relays = []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        relays.append(Relay(profile, ("127.0.0.1", 0), (host, int(port))))
    try:
        yield [f"127.0.0.1:{r.port}" for r in relays]
    finally:
        for relay in relays:
            relay.close()


def round_trip(address: tuple[str, int], n: int = 50) -> float:
    """The median round trip of one byte to an echo at ``address`` and back, in seconds."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(n):
            started = time.perf_counter()
            sock.sendall(b"x")
            if not sock.recv(1):
                break
            times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] if times else float("nan")


class Echo:
    """Sends back whatever it is sent, for measuring a link's round trip."""

    def __init__(self, listen: tuple[str, int], ns: int | None = None) -> None:
        self.listener = in_namespace(ns, lambda: socket.create_server(listen))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError), conn:
            while data := conn.recv(CHUNK):
                conn.sendall(data)


HOLD = (
    "import time\nfrom hearth.engine.netns import enter_private_network\n"
    "enter_private_network()\nprint('ready', flush=True)\ntime.sleep(86400)\n"
)


class Namespace:
    """A network namespace held open by a sleeping process, with its loopback up."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError("could not make a network namespace (this needs root)")
        self.path = f"/proc/{self.proc.pid}/ns/net"
        self.fd = os.open(self.path, os.O_RDONLY)

    @property
    def prefix(self) -> list[str]:
        """What runs a command inside this namespace."""
        return ["nsenter", f"--net={self.path}"]

    def close(self) -> None:
        os.close(self.fd)
        self.proc.kill()
        self.proc.wait()


class Household:
    """``n`` devices, each in a namespace of its own at 127.0.0.(2+i), joined by links of ``profile``."""

    def __init__(self, profile: Profile, n: int) -> None:
        if os.geteuid() != 0:
            raise RuntimeError("the household network needs root, for its network namespaces")
        self.profile = profile
        self.spaces = [Namespace(f"127.0.0.{2 + i}") for i in range(n)]
        self.relays: list[Relay] = []
        self._home: int | None = None  # the namespace a thread ``enter`` moved came from

    def expose(self, owner: int, port: int) -> None:
        """Device ``owner``'s listener at its address and ``port``, reachable from every other
        device's namespace at the same address, over a link."""
        space = self.spaces[owner]
        for other in self.spaces:
            if other is not space:
                self.relays.append(
                    Relay(self.profile, (space.address, port), (space.address, port), other.fd, space.fd)
                )

    def reach(self, viewer: int, owner: int, target: tuple[str, int]) -> str:
        """``target`` inside device ``owner``'s namespace (a worker on its loopback), reachable from
        device ``viewer``'s namespace over a link: the ``host:port`` to dial there."""
        relay = Relay(
            self.profile,
            (self.spaces[owner].address, 0),
            target,
            self.spaces[viewer].fd,
            self.spaces[owner].fd,
        )
        self.relays.append(relay)
        return f"{self.spaces[owner].address}:{relay.port}"

    def enter(self, device: int) -> None:
        """Move the calling thread into device ``device``'s namespace: the processes it starts from
        now on (an engine, a worker) are that device's, until ``close`` moves it back."""
        if self._home is None:
            self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        _setns(self.spaces[device].fd)

    def close(self) -> None:
        for relay in self.relays:
            relay.close()
        for space in self.spaces:
            space.close()
        if self._home is not None:
            _setns(self._home)
            os.close(self._home)
            self._home = None
