"""Entry point of a worker: ``python -m hearth.engine.rpc_worker --threads N --cache-dir DIR``.

A ggml RPC server on 127.0.0.1 only; the node's authenticated tunnel is the one way in. Started by a
node on Linux, the worker first moves into a network namespace of its own (``--connect-fd``): its
127.0.0.1 is then unreachable from outside, and the node asks for each connection over a Unix
socket, getting back one opened from inside. Elsewhere, or where the kernel refuses a namespace, the
server listens on the machine's loopback, and the worker says why in a ``NOT ISOLATED:`` line. Then,
before any thread exists, it confines itself (``engine.sandbox``: no new privileges; with Landlock,
writes only to its cache folder and TCP only to its own port; with seccomp, no new Unix socket) and
says how in a ``CONFINED:`` line.
It prints ``READY <port>`` once it can be reached and then serves until it is killed (ggml has no
stop call).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field

from hearth.core import stall
from hearth.core.launch import module_command
from hearth.engine import sandbox
from hearth.engine.threads import default_threads

log = logging.getLogger(__name__)
READY_TIMEOUT_S = 30.0
# What a starter waits for READY: the interpreter and ggml's start-up come before the worker's own wait.
START_TIMEOUT_S = 60.0
READY = re.compile(rb"READY (\d+)")
NOT_ISOLATED = re.compile(rb"NOT ISOLATED: (.*)")
CONFINED = re.compile(rb"CONFINED: (.*)")
CONNECT_TIMEOUT_S = 10.0
# The status a worker exits with when it could not finish moving into its namespace.
EXIT_NO_NAMESPACE = 3
# Threads of a worker looked at for ``Worker.busy``: ggml's pool and the worker's own few are far
# fewer, and a process with more does not make each glance at it longer.
BUSY_THREADS_LOOKED_AT = 1024


def command(
    threads: int, cache_dir: str, watch_parent: bool = False, connect_fd: int | None = None
) -> list[str]:
    """How to start a worker; it prints a line matching ``READY`` once it can be reached. With
    ``watch_parent`` it ends when its stdin closes, which happens when its starter dies in any way.
    With ``connect_fd`` (a Unix socket) it isolates itself and hands out connections over that socket."""
    return [
        *module_command("hearth.engine.rpc_worker"),
        "--threads",
        str(threads),
        "--cache-dir",
        cache_dir,
        *(["--watch-stdin"] if watch_parent else []),
        *(["--connect-fd", str(connect_fd)] if connect_fd is not None else []),
    ]


@dataclass
class Worker:
    """A running worker, seen from its node."""

    proc: asyncio.subprocess.Process
    port: int
    # Why the server listens on the machine's loopback, where every local account can reach it;
    # None when it is in its own namespace and ``connect`` is the only way in.
    exposed: str | None
    confined: str = ""  # how the worker confined itself, as it said
    _control: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
        """A new connection to the worker's RPC server (blocking; safe from any thread)."""
        if self._control is None:
            return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        with self._lock:
            self._control.settimeout(timeout)
            self._control.sendall(b"c")
            reply, fds, _, _ = socket.recv_fds(self._control, 1, 1)
        if reply != b"+" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise ConnectionError("the worker could not open a connection to its server")
        sock = socket.socket(fileno=fds[0])
        sock.settimeout(timeout)
        return sock

    def close(self) -> None:
        if self._control is not None:
            self._control.close()

    def busy(self) -> bool:
        """Whether a thread of the worker is running, waiting for a CPU or in disk sleep, as Linux
        says in each thread's ``stat``; False elsewhere, and once the process is gone."""
        if sys.platform != "linux":
            return False
        try:
            with os.scandir(f"/proc/{self.proc.pid}/task") as tasks:
                for task in itertools.islice(tasks, BUSY_THREADS_LOOKED_AT):
                    try:
                        with open(os.path.join(task.path, "stat"), "rb") as f:
                            line = f.read(4096)
                    except OSError:
                        continue  # the thread ended meanwhile
                    if stall.thread_busy(line):
                        return True
        except OSError:
            pass  # the process ended: the watcher reports it
        return False


# Set once the kernel refused a namespace here, so later workers do not try again.
_no_namespace: str | None = None


async def start(threads: int, cache_dir: str) -> Worker:
    """Start a worker and wait until it can be reached. Its stdout carries a line per accepted
    connection; the caller keeps reading it so that the server never blocks on it."""
    global _no_namespace
    if sys.platform != "linux":
        return await _start_learning(threads, cache_dir, exposed=_NO_NAMESPACES)
    if _no_namespace is None:
        try:
            return await _start_learning(threads, cache_dir, exposed=None)
        except _NoNamespace as exc:
            _no_namespace = str(exc)
    return await _start_learning(threads, cache_dir, exposed=_no_namespace)


class _NoNamespace(RuntimeError):
    pass


class _PortTaken(RuntimeError):
    pass


_NO_NAMESPACES = f"{sys.platform} has no network namespaces"
# What the kernel said about a network namespace for a worker here: None until a worker or
# ``probe_isolation`` asked, "" when a worker gets one, otherwise why it does not.
_isolation: str | None = None
PORT_TRIES = 3


def exposure() -> str | None:
    """Why workers started here listen on the machine's loopback, where every local account can reach
    them; None when each gets a network namespace of its own, or while that is not known yet."""
    return _NO_NAMESPACES if sys.platform != "linux" else _isolation or None


async def probe_isolation() -> str | None:
    """``exposure()``, asking the kernel first (in a short-lived process, ``hearth.engine.netns``)
    where no worker has asked it yet, so that a device says it before any host reserves a worker."""
    global _isolation
    if sys.platform != "linux" or _isolation is not None:
        return exposure()
    proc = await asyncio.create_subprocess_exec(
        *module_command("hearth.engine.netns"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            said, _ = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return exposure()  # not known: the next worker finds out
    if refused := NOT_ISOLATED.search(said):
        _isolation = refused.group(1).decode(errors="replace").strip()
    elif proc.returncode == 0 and said.strip() == b"ISOLATED":
        _isolation = ""
    return exposure()


async def _start_learning(threads: int, cache_dir: str, exposed: str | None) -> Worker:
    """``_start``, again where another program took the port the worker chose; what the worker said
    about its isolation is remembered for ``exposure``."""
    global _isolation
    for attempt in range(1, PORT_TRIES + 1):
        try:
            worker = await _start(threads, cache_dir, exposed)
        except _PortTaken as exc:
            log.warning("%s (attempt %d of %d)", exc, attempt, PORT_TRIES)
            if attempt == PORT_TRIES:
                raise RuntimeError(str(exc)) from None
            continue
        _isolation = worker.exposed or ""
        return worker
    raise AssertionError("unreachable")


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket that listens on 127.0.0.1:``port``."""
    import psutil  # here: a worker process never needs it

    try:
        sockets = psutil.Process(pid).net_connections(kind="tcp4")
    except psutil.AccessDenied:
        log.warning("cannot see which process listens on port %d; trusting the worker's word", port)
        return True
    except psutil.Error:
        return False
    return any(
        s.status == psutil.CONN_LISTEN and s.laddr and s.laddr.port == port and s.laddr.ip == "127.0.0.1"
        for s in sockets
    )


async def _start(threads: int, cache_dir: str, exposed: str | None) -> Worker:
    """With ``exposed`` None the worker isolates itself, otherwise that is why it does not."""
    isolate = exposed is None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) if isolate else (None, None)
    # The worker holds the read end of a pipe whose only writer is this process: when this process
    # ends, even by SIGKILL, the kernel closes it and the worker exits instead of serving on, orphaned.
    try:
        proc = await asyncio.create_subprocess_exec(
            *command(threads, cache_dir, True, theirs.fileno() if theirs else None),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=(theirs.fileno(),) if theirs else (),
            # A session of its own: no controlling terminal, so a worker taken over by its host
            # cannot push keystrokes into the terminal `hearth node` runs in (TIOCSTI on /dev/tty).
            start_new_session=True,
        )
    except BaseException:
        if ours is not None:
            ours.close()
        raise
    finally:
        if theirs is not None:
            theirs.close()
    assert proc.stdout is not None
    confined = ""
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    code = await proc.wait()
                    if code == EXIT_NO_NAMESPACE:
                        raise _NoNamespace(exposed or "the worker could not isolate itself")
                    raise RuntimeError(f"the worker exited with status {code}")
                if refused := NOT_ISOLATED.search(line):
                    exposed = refused.group(1).decode(errors="replace").strip()
                if said := CONFINED.search(line):
                    confined = said.group(1).decode(errors="replace").strip()
                    log.info("worker %d: %s", proc.pid, confined)
                if match := READY.search(line):
                    port = int(match.group(1))
                    # On the machine's loopback, another local account may take the port between the
                    # worker finding it free and ggml binding it; the worker's check that the port
                    # answers would then have reached that program. Only the worker's own listener
                    # will do (in a namespace of its own nobody else can bind).
                    if exposed is not None and not await asyncio.to_thread(_listens, proc.pid, port):
                        raise _PortTaken(f"another program took port {port} before the worker listened on it")
                    if exposed is not None:
                        log.warning("the worker listens on 127.0.0.1 for every local user: %s", exposed)
                    return Worker(proc, port, exposed, confined, ours)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        if ours is not None:
            ours.close()
        raise


def _exit_when_orphaned() -> None:
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    os._exit(0)  # ggml's server has no stop call; nothing here needs tidying


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hand_out_connections(control: socket.socket, port: int) -> None:
    """Answer each request on ``control`` with a connection to the server, opened from in here."""
    while True:
        try:
            if not control.recv(1):
                os._exit(0)  # the node is gone
        except OSError:
            os._exit(0)
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
        except OSError:
            control.sendall(b"-")
            continue
        with conn:
            socket.send_fds(control, [b"+"], [conn.fileno()])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    parser.add_argument("--connect-fd", type=int, help="isolate, and hand out connections on this socket")
    # Tests only: serve the RPC devices of the server at 127.0.0.1:PORT as this worker's GPU, beside
    # its CPU, as a machine with a GPU would (no node passes it).
    parser.add_argument("--stand-in-gpu", type=int, action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.connect_fd is not None:
        # Before any thread exists: the kernel gives a user namespace only to a single-threaded process.
        from hearth.engine.netns import NamespaceError, enter_private_network

        try:
            enter_private_network()
        except NamespaceError as exc:
            print(f"NOT ISOLATED: {exc}", flush=True)
            if exc.moved:
                sys.exit(EXIT_NO_NAMESPACE)  # unreachable from inside as well as from outside
    os.makedirs(args.cache_dir, exist_ok=True)
    port = _free_port()
    # Before ggml is loaded (an accelerator's runtime may start threads) and before our own threads.
    print(f"CONFINED: {sandbox.confine(args.cache_dir, port, *args.stand_in_gpu)}", flush=True)
    from hearth.engine import rpc

    if args.watch_stdin:
        threading.Thread(target=_exit_when_orphaned, daemon=True).start()

    def announce() -> None:
        # The server binds inside the blocking call; say READY only once a connection would succeed.
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.02)
                continue
            if args.connect_fd is not None:
                control = socket.socket(fileno=args.connect_fd)
                threading.Thread(target=_hand_out_connections, args=(control, port), daemon=True).start()
            sys.stdout.write(f"READY {port}\n")
            sys.stdout.flush()
            return

    threading.Thread(target=announce, daemon=True).start()
    endpoint = f"127.0.0.1:{port}"
    if args.stand_in_gpu:
        gpus = [f"127.0.0.1:{p}" for p in args.stand_in_gpu]
        rpc.serve_forever(endpoint, args.cache_dir, args.threads, gpus)
    else:
        rpc.serve_forever(endpoint, args.cache_dir, args.threads)
    sys.exit(1)  # only reached when ggml refused to start the server


if __name__ == "__main__":
    main()
