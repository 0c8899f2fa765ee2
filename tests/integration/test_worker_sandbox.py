"""A worker confines itself before its server starts: no new privileges; where the kernel has
Landlock, files written only beneath its cache folder (and /dev/null and accelerators' device
files) and TCP only to its own port; with seccomp, sockets only for IPv4 and IPv6 and no typing into
a terminal. It still serves."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import socket
import struct
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hearth.engine import rpc_worker, sandbox

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="no_new_privs and Landlock are Linux's")

HELLO = bytes([14]) + struct.pack("<Q", 24) + bytes(24)


def test_a_worker_confines_itself_and_still_serves(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    async def scenario() -> tuple[str, str, bytes]:
        worker = await rpc_worker.start(1, str(cache))
        try:
            status = await asyncio.to_thread(Path(f"/proc/{worker.proc.pid}/status").read_text)
            sock = await asyncio.to_thread(worker.connect)
            with sock:
                sock.sendall(HELLO)
                answer = await asyncio.to_thread(sock.recv, 64)
            return worker.confined, status, answer
        finally:
            worker.proc.kill()
            await worker.proc.wait()
            worker.close()

    confined, status, answer = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert "NoNewPrivs:\t1" in status
    assert confined.startswith("no new privileges")
    if sandbox.landlock_abi():
        assert f"files written only beneath {cache}" in confined, confined
        assert "existing /dev/null" in confined, confined
    if sandbox.seccomp_abi() and "seccomp not applied" not in confined:
        # The node's connections come over the Unix socket the worker inherited: still usable.
        assert "sockets only for IPv4 and IPv6" in confined, confined
    assert answer[:8] == struct.pack("<Q", 4 + 24)  # HELLO's answer: the version and capabilities


# The worker's own start-up, with its server replaced by a probe that tries what a hijacked server
# might: it runs where ggml's server would, after the worker has confined itself.
PROBE = r"""
import ctypes, fcntl, json, os, socket, sys, termios
from hearth.engine import rpc, rpc_worker, sandbox

OUTSIDE, LISTENER, CACHE, UNIX_PATH, ABSTRACT, SHM, SECCOMP = sys.argv[1:8]
LISTENER = int(LISTENER)
if SECCOMP == "off":  # Landlock alone, to show what the filter adds
    sandbox.install_seccomp = lambda libc=None: "seccomp left out"
# A terminal of the test's own, opened before the worker confines itself (Landlock would refuse
# opening /dev/ptmx read-write after): as the node's terminal a worker may inherit.
PTY, _PTY_SECONDARY = os.openpty()

def attempt(action, path=None):
    if path is not None and not os.path.exists(path):
        return "absent"
    try:
        action()
        return "allowed"
    except OSError as exc:
        return "denied" if exc.errno in (1, 13) else f"error {exc.errno}"

# The errno an action fails with, or 0: the filter's refusal (EACCES) told from the kernel's own
# (TIOCSTI on a terminal that is not the caller's controlling one is EPERM, an absent family another).
def errno_of(action):
    try:
        action()
        return 0
    except OSError as exc:
        return exc.errno

def make(family, kind):
    socket.socket(family, kind).close()

def write(path):
    with open(path, "w") as f:
        f.write("x")

def unix(address, kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_UNIX, kind) as s:
        s.settimeout(2)
        s.connect(address)

def io_uring():
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    fd = libc.syscall(425, 1, params)  # io_uring_setup
    if fd < 0:
        raise OSError(ctypes.get_errno(), "io_uring_setup")
    os.close(fd)

def probe(endpoint, cache_dir, threads):
    outside = OUTSIDE
    port = int(endpoint.rsplit(":", 1)[1])
    found = {
        "write in cache": attempt(lambda: write(os.path.join(cache_dir, "weights"))),
        "folder in cache": attempt(lambda: os.mkdir(os.path.join(cache_dir, "sub"))),
        "write outside": attempt(lambda: write(os.path.join(outside, "new"))),
        "overwrite outside": attempt(lambda: write(os.path.join(outside, "existing"))),
        "remove outside": attempt(lambda: os.remove(os.path.join(outside, "existing"))),
        "folder outside": attempt(lambda: os.mkdir(os.path.join(outside, "sub"))),
        "read outside": attempt(lambda: open(os.path.join(outside, "existing")).read()),
        "bind own port": attempt(lambda: socket.create_server(("127.0.0.1", port)).close()),
        "bind another port": attempt(lambda: socket.create_server(("127.0.0.1", 0)).close()),
        "connect elsewhere": attempt(lambda: socket.create_connection(("127.0.0.1", LISTENER), 2).close()),
        "signal the parent": attempt(lambda: os.kill(os.getppid(), 0)),
        "unix socket by path": attempt(lambda: unix(UNIX_PATH)),
        "unix datagram": attempt(lambda: unix(UNIX_PATH + ".dgram", socket.SOCK_DGRAM)),
        "abstract unix socket": attempt(lambda: unix("\0" + ABSTRACT)),
        "socket pair": attempt(lambda: [s.close() for s in socket.socketpair()]),
        "io_uring": attempt(io_uring),
        "tcp socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        "tcp6 socket": errno_of(lambda: make(socket.AF_INET6, socket.SOCK_STREAM)),
        "netlink socket": errno_of(lambda: make(socket.AF_NETLINK, socket.SOCK_RAW)),
        "vsock socket": errno_of(lambda: make(40, socket.SOCK_STREAM)),
        "packet socket": errno_of(lambda: make(17, socket.SOCK_DGRAM)),
        "type into a terminal": errno_of(lambda: fcntl.ioctl(PTY, termios.TIOCSTI, b"x")),
        "read a terminal's settings": errno_of(lambda: termios.tcgetattr(PTY)),
        "write /dev/null": attempt(lambda: write("/dev/null"), "/dev/null"),
        "write /dev/full": attempt(lambda: open("/dev/full", "w").close(), "/dev/full"),
        "write /dev/shm": attempt(lambda: write(SHM), SHM),
    }
    print("PROBE " + json.dumps(found), flush=True)
    os._exit(0)

rpc.serve_forever = probe
sys.argv = ["rpc_worker", "--threads", "1", "--cache-dir", CACHE]
rpc_worker.main()
"""


@contextmanager
def _listeners(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A Unix socket by path (stream and datagram) and an abstract one, as a session bus, an
    ssh-agent or an X server would have, in a folder that Landlock's rules do not cover for
    connecting; and a file in /dev/shm, as another program's shared memory (absent where /dev/shm
    cannot be written)."""
    path = str(tmp_path / "agent.sock")
    abstract = f"hearth-test-{uuid.uuid4().hex}"
    shm = f"/dev/shm/hearth-test-{uuid.uuid4().hex}"
    try:
        Path(shm).write_text("keep")
    except OSError:
        shm = "/nonexistent/shm"
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    hidden = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        stream.bind(path)
        stream.listen()
        dgram.bind(path + ".dgram")
        hidden.bind("\0" + abstract)
        hidden.listen()
        yield path, abstract, shm
    finally:
        for s in (stream, dgram, hidden):
            s.close()
        if shm.startswith("/dev/shm/"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(shm)


def _probe(tmp_path: Path, seccomp: str = "on") -> dict[str, str | int]:
    """What the probe found it may do, run as a worker after the worker's own confinement."""
    outside = tmp_path / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "existing").write_text("keep")
    with socket.create_server(("127.0.0.1", 0)) as listener, _listeners(tmp_path) as (path, abstract, shm):
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                PROBE,
                str(outside),
                str(listener.getsockname()[1]),
                str(tmp_path / "cache"),
                path,
                abstract,
                shm,
                seccomp,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        if shm.startswith("/dev/shm/"):
            assert Path(shm).read_text() == "keep"
    said = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in run.stdout.splitlines() if " " in line}
    assert "PROBE" in said and "CONFINED:" in said, run.stdout + run.stderr
    return {**json.loads(said["PROBE"]), "confined": said["CONFINED:"]}


@pytest.mark.skipif(not sandbox.landlock_abi(), reason="this kernel has no Landlock")
def test_a_confined_worker_writes_only_beneath_its_cache_folder(tmp_path: Path) -> None:
    found = _probe(tmp_path)
    outside = tmp_path / "outside"
    abi = sandbox.landlock_abi()
    assert found["write in cache"] == found["folder in cache"] == "allowed", found
    assert found["read outside"] == "allowed", found
    assert found["write outside"] == found["overwrite outside"] == "denied"
    assert found["remove outside"] == found["folder outside"] == "denied"
    assert (outside / "existing").read_text() == "keep" and sorted(os.listdir(outside)) == ["existing"]
    if abi >= 4:
        assert found["bind own port"] == "allowed"
        assert found["bind another port"] == found["connect elsewhere"] == "denied"
    if abi >= 6:
        assert found["signal the parent"] == "denied"
    # /dev: only the null device and accelerators' files, not the rest (another program's shared
    # memory, a terminal, a disk).
    assert found["write /dev/null"] == "allowed", found
    assert found["write /dev/full"] in ("denied", "absent"), found
    assert found["write /dev/shm"] in ("denied", "absent"), found


def test_the_device_files_a_worker_may_write_are_only_those_named() -> None:
    allowed = sandbox.device_files()
    assert allowed[0] == "/dev/null"
    for path in allowed:
        assert path in sandbox.DEVICE_FILES or path.startswith("/dev/nvidia"), path
        assert os.path.exists(path)
    assert "/dev" not in allowed and not any(p.startswith("/dev/shm") for p in allowed)


@pytest.mark.skipif(sandbox.seccomp_abi() is None, reason="no seccomp filter for this platform's processes")
def test_a_confined_worker_opens_no_unix_socket_and_still_uses_tcp(tmp_path: Path) -> None:
    found = _probe(tmp_path)
    confined = str(found["confined"])
    if "seccomp not applied" in confined:
        pytest.skip(f"this kernel took no seccomp filter: {confined}")
    assert "sockets only for IPv4 and IPv6" in confined, found
    for reach in ("unix socket by path", "unix datagram", "abstract unix socket", "socket pair", "io_uring"):
        assert found[reach] == "denied", (reach, found)
    assert found["tcp socket"] == "allowed", found
    assert found["bind own port"] == "allowed", found
    assert found["write in cache"] == "allowed", found
    # Every other family is refused by the filter (EACCES), not by the kernel's own rules; IPv6 is
    # the filter's to allow (this kernel may still lack it).
    for family in ("netlink socket", "vsock socket", "packet socket"):
        assert found[family] == errno.EACCES, (family, found)
    assert found["tcp6 socket"] != errno.EACCES, found
    # The terminal may be read and set, not typed into.
    assert found["type into a terminal"] == errno.EACCES, found
    assert found["read a terminal's settings"] == 0, found
    # Without the filter, the same worker reaches the socket by its path: Landlock does not cover it;
    # and a netlink socket, and TIOCSTI, are the kernel's to judge.
    unfiltered = _probe(tmp_path / "unfiltered", seccomp="off")
    assert unfiltered["unix socket by path"] == "allowed", unfiltered
    assert unfiltered["socket pair"] == "allowed", unfiltered
    assert unfiltered["netlink socket"] == 0, unfiltered
    assert unfiltered["type into a terminal"] != errno.EACCES, unfiltered
