"""Least privilege for a worker process, where the OS offers it cheaply (Linux).

A worker runs llama.cpp's RPC server for a paired host, which is trusted with what it computes but
not with the machine; if the server were ever made to run code of the host's, that code should find
as little as possible. Before the server starts, and before any thread exists:

- ``PR_SET_NO_NEW_PRIVS``: nothing the worker executes gains privileges (setuid, file capabilities);
- Landlock, where the kernel has it: files are written only beneath the worker's cache folder (and
  existing device files, which accelerator drivers open read-write); reading stays as it was, since
  llama.cpp's libraries and drivers are read from wherever they are installed; TCP binds and
  connections only to the worker's own port (Landlock ABI 4); no signals to, and no abstract Unix
  sockets of, processes outside the worker (ABI 6).

Each layer the kernel lacks is skipped and said so; none is required for the worker to serve.
Landlock binds the thread that asks and the threads it later starts, hence before any thread.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
# The same numbers on every Linux architecture (they were added after the tables were unified).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_RULE_NET_PORT = 2

# include/uapi/linux/landlock.h
FS_WRITE_FILE = 1 << 1
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

# Every way of changing the file system; reading, listing and executing are left alone.
_WRITES_V1 = (
    FS_WRITE_FILE
    | FS_REMOVE_DIR
    | FS_REMOVE_FILE
    | FS_MAKE_CHAR
    | FS_MAKE_DIR
    | FS_MAKE_REG
    | FS_MAKE_SOCK
    | FS_MAKE_FIFO
    | FS_MAKE_BLOCK
    | FS_MAKE_SYM
)
DEVICES = "/dev"


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers; 0 where it has none (or it is switched off)."""
    if sys.platform != "linux":
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, int(abi))


def confine(writable: str, port: int) -> str:
    """Confine this process as the module says, before it starts any thread: files written only
    beneath ``writable``, TCP only to ``port``. Returns what was applied and what was not, for the
    worker to say; never raises for what the kernel lacks."""
    if sys.platform != "linux":
        return f"not confined: {sys.platform} has neither no_new_privs nor Landlock"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    done = []
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"not confined: no_new_privs refused ({os.strerror(ctypes.get_errno())})"
    done.append("no new privileges")
    abi = landlock_abi()
    if abi == 0:
        done.append("no Landlock in this kernel")
        return "; ".join(done)
    try:
        done.append(f"Landlock ABI {abi}: " + _landlock(libc, abi, writable, port))
    except OSError as exc:
        done.append(f"Landlock not applied ({exc})")
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        done.append(f"{threads - 1} threads started before were left unconfined")
    return "; ".join(done)


def _landlock(libc: ctypes.CDLL, abi: int, writable: str, port: int) -> str:
    writes = _WRITES_V1 | (FS_REFER if abi >= 2 else 0) | (FS_TRUNCATE if abi >= 3 else 0)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    # struct landlock_ruleset_attr grew a field at ABI 4 and at 6; an older kernel takes the old size.
    attr = struct.pack("<QQQ", writes, net, scoped)[: 24 if abi >= 6 else 16 if abi >= 4 else 8]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset: " + os.strerror(ctypes.get_errno()))
    try:
        _beneath(libc, ruleset, writable, writes)
        said = [f"files written only beneath {writable}"]
        if os.path.isdir(DEVICES):
            # GPU drivers open their device files read-write; nothing can be created there.
            _beneath(libc, ruleset, DEVICES, FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0))
            said.append(f"existing files in {DEVICES}")
        if net:
            rule = ctypes.create_string_buffer(struct.pack("<QQ", net, port), 16)
            _add_rule(libc, ruleset, LANDLOCK_RULE_NET_PORT, rule)
            said.append(f"TCP only to port {port}")
        if scoped:
            said.append("no signals or abstract sockets beyond itself")
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self: " + os.strerror(ctypes.get_errno()))
        return ", ".join(said)
    finally:
        os.close(ruleset)


def _beneath(libc: ctypes.CDLL, ruleset: int, path: str, allowed: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        # struct landlock_path_beneath_attr is packed: allowed_access u64, parent_fd s32.
        rule = ctypes.create_string_buffer(struct.pack("<Qi", allowed, fd), 12)
        _add_rule(libc, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule)
    finally:
        os.close(fd)


def _add_rule(libc: ctypes.CDLL, ruleset: int, kind: int, rule: ctypes.Array[ctypes.c_char]) -> None:
    if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, kind, rule, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_add_rule: " + os.strerror(ctypes.get_errno()))
