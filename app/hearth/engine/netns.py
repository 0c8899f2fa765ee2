"""A private network namespace for a worker process, on Linux.

llama.cpp's RPC server listens only on TCP, and every account on a machine can connect to 127.0.0.1.
In a network namespace of its own, the server's 127.0.0.1 is that namespace's loopback, which no
other process can reach; the node gets connections opened from inside, passed over a Unix socket.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IFREQ = "16sH22x"  # struct ifreq: the name, the flags, the rest of the union


class NamespaceError(OSError):
    """No private network; ``moved`` says whether the process left its namespace all the same."""

    def __init__(self, message: str, moved: bool) -> None:
        super().__init__(message)
        self.moved = moved


def enter_private_network() -> None:
    """Move this process into a new network namespace with its loopback up, or raise NamespaceError.

    Must run while the process has a single thread: the kernel refuses a new user namespace to a
    threaded process.
    """
    if sys.platform != "linux":
        raise NamespaceError("network namespaces exist only on Linux", moved=False)
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    # With CAP_SYS_ADMIN a network namespace alone; without, inside a user namespace that maps only
    # this user, which is what an unprivileged account may create.
    if libc.unshare(CLONE_NEWNET) != 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
            why = os.strerror(ctypes.get_errno())
            raise NamespaceError(f"the kernel refused a private network namespace ({why})", moved=False)
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError as exc:
            raise NamespaceError(
                f"could not map this user into the namespace ({exc.strerror})", True
            ) from exc
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            name = b"lo"
            flags = struct.unpack(IFREQ, fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack(IFREQ, name, 0)))[1]
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack(IFREQ, name, flags | IFF_UP))
    except OSError as exc:
        # Already moved: without a loopback the server cannot even be reached from inside.
        raise NamespaceError(f"could not bring up the namespace's loopback ({exc.strerror})", True) from exc


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _probe() -> None:
    """``python -m hearth.engine.netns``: say whether a worker started here would get a network of its
    own (``ISOLATED``) or why not (``NOT ISOLATED: …``), as a worker's first line says it, and exit.
    A process of its own, because the kernel gives a user namespace only to a single-threaded one."""
    try:
        enter_private_network()
    except NamespaceError as exc:
        print(f"NOT ISOLATED: {exc}", flush=True)
        return
    print("ISOLATED", flush=True)


if __name__ == "__main__":
    _probe()
