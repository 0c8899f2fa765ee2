"""Who is at the other end of a loopback TCP connection: this user, or another account on the machine.

llama.cpp connects to its RPC servers over TCP only, so the host's end of a tunnel has to listen on
127.0.0.1, which every local account can reach. The kernel knows which account owns each socket; a
connection is served only when its peer is owned by the user Hearth runs as.
"""

from __future__ import annotations

import logging
import os
import socket
import sys

import psutil

log = logging.getLogger(__name__)


def same_user(conn: socket.socket) -> bool:
    """Whether the process that opened ``conn`` (accepted here, on loopback) runs as this user."""
    try:
        peer, ours = conn.getpeername()[:2], conn.getsockname()[:2]
    except OSError:
        return False
    if sys.platform == "linux":
        uid = _linux_uid(peer, ours)
        return uid is not None and uid == os.geteuid()
    return _owner_matches(peer, ours)


def _proc_address(address: tuple[str, int]) -> str:
    """How /proc/net/tcp writes an IPv4 address and port: the address as the host's integer, in hex."""
    raw = socket.inet_aton(address[0])
    if sys.byteorder == "little":
        raw = raw[::-1]
    return f"{raw.hex().upper()}:{address[1]:04X}"


def _linux_uid(peer: tuple[str, int], ours: tuple[str, int]) -> int | None:
    # The peer's socket is the row whose local end is our peer and whose remote end is us.
    local, remote = _proc_address(peer), _proc_address(ours)
    try:
        with open("/proc/net/tcp") as table:
            next(table)
            for row in table:
                fields = row.split()
                if fields[1] == local and fields[2] == remote:
                    return int(fields[7])
    except (OSError, ValueError, IndexError, StopIteration) as exc:
        log.warning("cannot read the socket table: %s", exc)
    return None


def _owner_matches(peer: tuple[str, int], ours: tuple[str, int]) -> bool:
    """macOS and Windows: find the process that owns the peer's socket, then compare its user."""

    def matches(laddr: tuple[str, int] | tuple[()], raddr: tuple[str, int] | tuple[()]) -> bool:
        return tuple(laddr) == peer and tuple(raddr) == ours

    try:
        me = psutil.Process().username()
        try:
            for c in psutil.net_connections("tcp4"):
                if matches(c.laddr, c.raddr):
                    # Another account's sockets show no process to an unprivileged user: refused.
                    return c.pid is not None and psutil.Process(c.pid).username() == me
            return False
        except psutil.AccessDenied:
            pass  # macOS lists every socket only to root; this user's own processes it does show
        for proc in psutil.process_iter(["username"]):
            if proc.info["username"] != me:
                continue
            try:
                if any(matches(c.laddr, c.raddr) for c in proc.net_connections("tcp4")):
                    return True
            except psutil.Error:
                continue
    except (psutil.Error, OSError) as exc:
        log.warning("cannot tell who opened a local connection: %s", exc)
    return False
