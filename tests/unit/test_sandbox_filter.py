"""The seccomp program a worker installs, run on a small classic-BPF interpreter for both ABIs it is
built for (so AArch64's is checked on any machine), and its numbers against the kernel headers
where they are installed."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from hearth.engine import sandbox

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK = 1, 2, 10, 16, 17, 40
TIOCSTI, TIOCLINUX, TCGETS, FIONREAD = 0x5412, 0x541C, 0x5401, 0x541B
ALLOW = sandbox.SECCOMP_RET_ALLOW
DENY = sandbox.DENIED
# A few calls a worker makes all the time, by ABI: read, write, close, connect, accept4, sendmsg.
ORDINARY = {"x86_64": (0, 1, 3, 42, 288, 46), "aarch64": (63, 64, 57, 203, 242, 211)}
AUDIT_ARCH_I386 = 0x40000003
SOCKETCALL_I386 = 102


def run(program: bytes, nr: int, arch: int, *args: int) -> int:
    """What the kernel would do with this call: the value the program returns for it."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * 6)[:6])
    code = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert len(program) % 8 == 0 and 0 < len(code) <= 4096
    acc, pc = 0, 0
    for _ in range(len(code)):  # classic BPF only jumps forward: each instruction runs once at most
        op, jt, jf, k = code[pc]
        if op == 0x20:  # BPF_LD | BPF_W | BPF_ABS
            assert k % 4 == 0 and k + 4 <= len(data)
            acc = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif op in (0x15, 0x35):  # BPF_JMP | BPF_JEQ / BPF_JGE | BPF_K
            taken = acc == k if op == 0x15 else acc >= k
            pc += 1 + (jt if taken else jf)
        elif op == 0x06:  # BPF_RET | BPF_K
            return k
        else:
            raise AssertionError(f"instruction {op:#x} is not one the filter is meant to use")
        assert pc < len(code), "a jump past the end of the program"
    raise AssertionError("the program ran out without returning")


@pytest.mark.parametrize("abi", ["x86_64", "aarch64"])
def test_only_ip_sockets_are_allowed(abi: str) -> None:
    program = sandbox.seccomp_filter(abi)
    arch = sandbox.AUDIT_ARCH[abi]
    socket_nr, socketpair_nr = sandbox.SOCKET_SYSCALLS[abi]
    for flags in (1, 2, 3, 5, 0x80001, 0x800 | 1):  # stream, datagram, raw, seqpacket, CLOEXEC/NONBLOCK
        for family in (AF_UNIX, AF_NETLINK, AF_PACKET, AF_VSOCK, 0, 42, 45, 0xFFFF_FFFF):
            assert run(program, socket_nr, arch, family, flags, 0) == DENY, family
        for family in (AF_INET, AF_INET6):
            assert run(program, socket_nr, arch, family, flags, 0) == ALLOW
            # A socket pair is of Unix sockets whatever family it names: refused outright.
            assert run(program, socketpair_nr, arch, family, flags, 0) == DENY
        assert run(program, socketpair_nr, arch, AF_UNIX, flags, 0) == DENY
    # The kernel takes the family as an int: high bits neither hide a family nor forge an allowed one.
    assert run(program, socket_nr, arch, (0xFFFF_FFFF << 32) | AF_UNIX, 1, 0) == DENY
    assert run(program, socket_nr, arch, (0xFFFF_FFFF << 32) | AF_VSOCK, 1, 0) == DENY
    assert run(program, socket_nr, arch, (1 << 32) | AF_INET, 1, 0) == ALLOW
    for nr in ORDINARY[abi]:
        assert run(program, nr, arch, AF_UNIX, 1, 0) == ALLOW


@pytest.mark.parametrize("abi", ["x86_64", "aarch64"])
def test_no_typing_into_a_terminal(abi: str) -> None:
    program = sandbox.seccomp_filter(abi)
    arch = sandbox.AUDIT_ARCH[abi]
    ioctl = sandbox.IOCTL_SYSCALL[abi]
    for request in (TIOCSTI, TIOCLINUX):
        assert run(program, ioctl, arch, 0, request, 0) == DENY
        # The kernel reads the request as an unsigned int: high bits do not hide it.
        assert run(program, ioctl, arch, 5, (0xDEAD_BEEF << 32) | request, 0) == DENY
    for request in (TCGETS, FIONREAD, 0xC0186201, TIOCSTI + 1):  # and a driver's (_IOWR) request
        assert run(program, ioctl, arch, 3, request, 0) == ALLOW


@pytest.mark.parametrize("abi", ["x86_64", "aarch64"])
def test_no_reaching_into_another_process(abi: str) -> None:
    program = sandbox.seccomp_filter(abi)
    for nr in sandbox.PROCESS_SYSCALLS[abi]:
        assert run(program, nr, sandbox.AUDIT_ARCH[abi], 1, 0, 0) == DENY


@pytest.mark.parametrize("abi", ["x86_64", "aarch64"])
def test_io_uring_is_refused(abi: str) -> None:
    program = sandbox.seccomp_filter(abi)
    for nr in (425, 426, 427):
        assert run(program, nr, sandbox.AUDIT_ARCH[abi], 8, 0) == DENY


def test_the_other_abis_of_an_x86_64_process_are_refused() -> None:
    program = sandbox.seccomp_filter("x86_64")
    arch = sandbox.AUDIT_ARCH["x86_64"]
    # x32's socket() is the 64-bit number with its bit set; i386's goes through socketcall().
    assert run(program, 41 | sandbox.X32_SYSCALL_BIT, arch, AF_UNIX, 1, 0) == DENY
    assert run(program, 1 | sandbox.X32_SYSCALL_BIT, arch, 1, 0, 0) == DENY
    assert run(program, SOCKETCALL_I386, AUDIT_ARCH_I386, 1, 0, 0) == DENY
    assert run(program, 4, AUDIT_ARCH_I386, 1, 0, 0) == DENY


def test_each_abis_numbers_are_its_own() -> None:
    # AArch64's socket is 198; on x86-64 that number is another call, and the other way round.
    x86, arm = sandbox.seccomp_filter("x86_64"), sandbox.seccomp_filter("aarch64")
    assert run(x86, 198, sandbox.AUDIT_ARCH["x86_64"], AF_UNIX, 1, 0) == ALLOW
    assert run(arm, 41, sandbox.AUDIT_ARCH["aarch64"], AF_UNIX, 1, 0) == ALLOW
    assert run(arm, 198, sandbox.AUDIT_ARCH["x86_64"], AF_UNIX, 1, 0) == DENY  # the wrong ABI


HEADERS = {
    "x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    "aarch64": Path("/usr/include/asm-generic/unistd.h"),  # AArch64 uses the generic table
}


@pytest.mark.parametrize("abi", ["x86_64", "aarch64"])
def test_the_numbers_are_the_kernels(abi: str) -> None:
    header = HEADERS[abi]
    if not header.is_file():
        pytest.skip(f"{header} is not installed here")
    numbers = {m[1]: int(m[2]) for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)\b", header.read_text())}
    assert (numbers["socket"], numbers["socketpair"]) == sandbox.SOCKET_SYSCALLS[abi]
    assert numbers["ioctl"] == sandbox.IOCTL_SYSCALL[abi]
    process = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd")
    assert tuple(numbers[name] for name in process) == sandbox.PROCESS_SYSCALLS[abi]
    assert (
        tuple(numbers[f"io_uring_{n}"] for n in ("setup", "enter", "register")) == sandbox.IO_URING_SYSCALLS
    )
    assert (numbers["connect"], numbers["sendmsg"]) == (ORDINARY[abi][3], ORDINARY[abi][5])


IOCTLS_HEADER = Path("/usr/include/asm-generic/ioctls.h")  # x86-64's and AArch64's include it


def test_the_terminal_requests_are_the_kernels() -> None:
    if not IOCTLS_HEADER.is_file():
        pytest.skip(f"{IOCTLS_HEADER} is not installed here")
    numbers = {
        m[1]: int(m[2], 16)
        for m in re.finditer(r"#define (TIOC\w+)\s+0x([0-9A-Fa-f]+)\b", IOCTLS_HEADER.read_text())
    }
    assert (numbers["TIOCSTI"], numbers["TIOCLINUX"]) == (sandbox.TIOCSTI, sandbox.TIOCLINUX)
