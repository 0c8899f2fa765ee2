"""Least privilege for a worker process, where the OS offers it cheaply (Linux).

A worker runs llama.cpp's RPC server for a paired host, which is trusted with what it computes but
not with the machine; if the server were ever made to run code of the host's, that code should find
as little as possible. Before the server starts, and before any thread exists:

- ``PR_SET_NO_NEW_PRIVS``: nothing the worker executes gains privileges (setuid, file capabilities);
- Landlock, where the kernel has it: files are written only beneath the worker's cache folder (and
  ``/dev/null`` and the accelerators' device files that exist, which drivers open read-write);
  reading stays as it was, since llama.cpp's libraries and drivers are read from wherever they are
  installed; TCP binds and connections only to the worker's own port (Landlock ABI 4); no signals
  to, and no abstract Unix sockets of, processes outside the worker (ABI 6);
- a seccomp filter, on x86-64 and AArch64: new sockets only for IPv4 and IPv6, and no socket pair.
  Landlock does not cover connecting to a Unix socket by its path, so without it the worker could
  reach the session bus, an ssh-agent or an X server of its user; nor does it cover the other
  families, of which vsock is not even scoped by a network namespace (inside a VM or WSL2 it reaches
  the hypervisor's services), and netlink and packet sockets reach the kernel's network
  configuration and raw frames. The server needs none: it listens on TCP, and the one Unix socket the
  worker uses (to hand its node connections) is inherited, made before any of this. The same filter
  refuses io_uring (which makes sockets without ``socket()``), the calls that reach into another
  process (``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``), and the terminal ioctls
  that type into a terminal or drive the console (``TIOCSTI``, ``TIOCLINUX``): the worker may still
  hold its node's terminal, and input pushed there would run as the user.

Each layer the kernel lacks is skipped and said so; none is required for the worker to serve.
Landlock and seccomp bind the thread that asks and the threads it later starts, hence before any
thread.
"""

from __future__ import annotations

import ctypes
import errno
import glob
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
# What a worker may write beneath /dev: the null device, and what accelerator drivers open
# read-write (DRM render nodes for Vulkan, AMD's KFD for ROCm, compute accelerators, WSL's GPU
# paravirtualisation for CUDA there). Everything else there stays read-only: another program's
# shared memory in /dev/shm, terminals, disks the user may write.
DEVICE_FILES = ("/dev/null", "/dev/dri", "/dev/kfd", "/dev/accel", "/dev/dxg")
DEVICE_PATTERNS = ("/dev/nvidia*",)  # NVIDIA's control, per-GPU, UVM and capability nodes

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
# What a refused call fails with: what a program sees where sockets are forbidden to it.
DENIED = SECCOMP_RET_ERRNO | errno.EACCES
# The only socket families a worker may make: its server's TCP (the loopback, or the namespace's).
ALLOWED_FAMILIES = (2, 10)  # AF_INET, AF_INET6
# include/uapi/linux/audit.h: the ABI a system call was made through.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (AArch64's table).
SOCKET_SYSCALLS = {"x86_64": (41, 53), "aarch64": (198, 199)}  # socket, socketpair
IOCTL_SYSCALL = {"x86_64": 16, "aarch64": 29}
# Calls that reach into another process's memory or files; a worker has no use for any.
# ptrace, process_vm_readv, process_vm_writev, pidfd_getfd (the last the same on every architecture).
PROCESS_SYSCALLS = {"x86_64": (101, 310, 311, 438), "aarch64": (117, 270, 271, 438)}
# io_uring makes and connects sockets without a socket() call of its own (the same numbers on every
# architecture); a worker has no use for it.
IO_URING_SYSCALLS = (425, 426, 427)  # io_uring_setup, io_uring_enter, io_uring_register
# include/uapi/asm-generic/ioctls.h (x86-64's and AArch64's): push a byte into a terminal's input,
# and the virtual console's multiplexer (selection pasting, among others).
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
# On x86-64 the same process may call the x32 ABI's numbers, which have this bit set.
X32_SYSCALL_BIT = 0x40000000
# struct seccomp_data: nr (s32), arch (u32), instruction_pointer (u64), args (u64[6]).
_NR, _ARCH, _ARG0, _ARG1 = 0, 4, 16, 24
# Classic BPF: the three instructions the filter needs.
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers; 0 where it has none (or it is switched off)."""
    if sys.platform != "linux":
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, int(abi))


def seccomp_abi() -> str | None:
    """This process's system call ABI, where the seccomp filter knows its numbers; else None."""
    if sys.platform != "linux" or struct.calcsize("P") != 8:
        return None  # a 32-bit interpreter (i386, x32, arm) calls through other tables
    machine = os.uname().machine.lower()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(machine)


def confine(writable: str, port: int, *also: int) -> str:
    """Confine this process as the module says, before it starts any thread: files written only
    beneath ``writable``, TCP only to ``port`` (and the ports ``also`` names), sockets only for IPv4
    and IPv6. Returns what was applied and what was not, for the worker to say; never raises for what
    the kernel lacks."""
    if sys.platform != "linux":
        return f"not confined: {sys.platform} has neither no_new_privs nor Landlock nor seccomp"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    done = []
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"not confined: no_new_privs refused ({os.strerror(ctypes.get_errno())})"
    done.append("no new privileges")
    abi = landlock_abi()
    if abi == 0:
        done.append("no Landlock in this kernel")
    else:
        try:
            done.append(f"Landlock ABI {abi}: " + _landlock(libc, abi, writable, (port, *also)))
        except OSError as exc:
            done.append(f"Landlock not applied ({exc})")
    done.append(install_seccomp(libc))
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        done.append(f"{threads - 1} threads started before were left unconfined")
    return "; ".join(done)


def device_files() -> list[str]:
    """The paths beneath /dev a worker may write here: those of ``DEVICE_FILES`` and
    ``DEVICE_PATTERNS`` that exist now (Landlock's rules name existing files)."""
    found = [path for path in DEVICE_FILES if os.path.exists(path)]
    for pattern in DEVICE_PATTERNS:
        found += sorted(glob.glob(pattern))
    return found


def _landlock(libc: ctypes.CDLL, abi: int, writable: str, ports: tuple[int, ...]) -> str:
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
        devices = []
        for path in device_files():
            # Drivers open these read-write; nothing can be created, removed or renamed there.
            try:
                _beneath(libc, ruleset, path, FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0))
            except FileNotFoundError:
                continue  # gone since it was listed (a GPU unplugged)
            devices.append(path)
        if devices:
            said.append("existing " + ", ".join(devices))
        if net:
            for port in ports:
                rule = ctypes.create_string_buffer(struct.pack("<QQ", net, port), 16)
                _add_rule(libc, ruleset, LANDLOCK_RULE_NET_PORT, rule)
            said.append(f"TCP only to port{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))}")
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


def seccomp_filter(abi: str) -> bytes:
    """The seccomp program, as the kernel takes it (``struct sock_filter`` after one another), that
    refuses with EACCES: ``socket`` for every family but ``ALLOWED_FAMILIES``, ``socketpair``, every
    io_uring call, ``PROCESS_SYSCALLS``, ``ioctl`` with ``TIOCSTI`` or ``TIOCLINUX``, and every call
    through another ABI than ``abi``'s ("x86_64" or "aarch64"); it allows the rest."""
    socket_nr, socketpair_nr = SOCKET_SYSCALLS[abi]
    # Jumps name a label; "" falls through to the next instruction.
    program: list[tuple[int, int, str, str] | str] = [
        (_LD_W_ABS, _ARCH, "", ""),
        # A 64-bit process can still call through i386's table (int 0x80), where numbers differ
        # (and socketcall() hides the family): nothing is allowed through another ABI.
        (_JEQ_K, AUDIT_ARCH[abi], "", "deny"),
        (_LD_W_ABS, _NR, "", ""),
        *([(_JGE_K, X32_SYSCALL_BIT, "deny", "")] if abi == "x86_64" else []),
        (_JEQ_K, socket_nr, "family", ""),
        (_JEQ_K, IOCTL_SYSCALL[abi], "ioctl", ""),
        # A socket pair is only ever of Unix sockets: refused whatever family it names.
        (_JEQ_K, socketpair_nr, "deny", ""),
        *((_JEQ_K, nr, "deny", "") for nr in IO_URING_SYSCALLS + PROCESS_SYSCALLS[abi]),
        (_RET_K, SECCOMP_RET_ALLOW, "", ""),
        "family",
        # The kernel reads the family as an int: the argument's low 32 bits (both ABIs are
        # little-endian), whatever its high bits hold.
        (_LD_W_ABS, _ARG0, "", ""),
        *((_JEQ_K, family, "allow", "") for family in ALLOWED_FAMILIES),
        (_RET_K, DENIED, "", ""),
        "ioctl",
        # The kernel, too, takes the request number as an unsigned int: only the low 32 bits count.
        (_LD_W_ABS, _ARG1, "", ""),
        (_JEQ_K, TIOCSTI, "deny", ""),
        (_JEQ_K, TIOCLINUX, "deny", ""),
        "allow",
        (_RET_K, SECCOMP_RET_ALLOW, "", ""),
        "deny",
        (_RET_K, DENIED, "", ""),
    ]
    labels: dict[str, int] = {}
    code: list[tuple[int, int, str, str]] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)
    out = bytearray()
    for at, (op, k, jt, jf) in enumerate(code):
        # A conditional jump counts the instructions it skips.
        out += struct.pack("=HBBI", op, labels[jt] - at - 1 if jt else 0, labels[jf] - at - 1 if jf else 0, k)
    return bytes(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(libc: ctypes.CDLL | None = None) -> str:
    """Install ``seccomp_filter`` for this process and the threads it starts later (it needs
    no_new_privs first); what was done, for the worker to say. Never raises for what the kernel or
    the architecture lacks: the worker then serves without it, and says so."""
    abi = seccomp_abi()
    if abi is None:
        if sys.platform != "linux":
            return f"seccomp not applied: {sys.platform} has no seccomp"
        return f"seccomp not applied: no filter for {os.uname().machine} processes"
    if libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
    program = seccomp_filter(abi)
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    done = libc.prctl(
        ctypes.c_int(PR_SET_SECCOMP),
        ctypes.c_ulong(SECCOMP_MODE_FILTER),
        ctypes.byref(fprog),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
    )
    if done != 0:
        return f"seccomp not applied ({os.strerror(ctypes.get_errno())})"
    return "seccomp: sockets only for IPv4 and IPv6, no io_uring, no tracing, no typing into terminals"
