"""Entry point of a worker: ``python -m hearth.engine.rpc_worker --threads N --cache-dir DIR``.

A ggml RPC server on 127.0.0.1 only; the node's authenticated tunnel is the one way in. It prints
``READY <port>`` once it can be reached and then serves until it is killed (ggml has no stop call).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import sys
import threading
import time

from hearth.engine import rpc
from hearth.engine.threads import default_threads

READY_TIMEOUT_S = 30.0
# What a starter waits for READY: the interpreter and ggml's start-up come before the worker's own wait.
START_TIMEOUT_S = 60.0
READY = re.compile(rb"READY (\d+)")


def command(threads: int, cache_dir: str, watch_parent: bool = False) -> list[str]:
    """How to start a worker; it prints a line matching ``READY`` once it can be reached. With
    ``watch_parent`` it ends when its stdin closes, which happens when its starter dies in any way."""
    return [
        sys.executable,
        "-m",
        "hearth.engine.rpc_worker",
        "--threads",
        str(threads),
        "--cache-dir",
        cache_dir,
        *(["--watch-stdin"] if watch_parent else []),
    ]


async def start(threads: int, cache_dir: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start a worker and wait until it can be reached: (process, port). Its stdout carries a line
    per accepted connection; the caller keeps reading it so that the server never blocks on it."""
    # The worker holds the read end of a pipe whose only writer is this process: when this process
    # ends, even by SIGKILL, the kernel closes it and the worker exits instead of serving on, orphaned.
    proc = await asyncio.create_subprocess_exec(
        *command(threads, cache_dir, watch_parent=True),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"the worker exited with status {await proc.wait()}")
                match = READY.search(line)
                if match:
                    return proc, int(match.group(1))
    except (TimeoutError, RuntimeError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args()
    if args.watch_stdin:
        threading.Thread(target=_exit_when_orphaned, daemon=True).start()
    os.makedirs(args.cache_dir, exist_ok=True)
    port = _free_port()

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
            sys.stdout.write(f"READY {port}\n")
            sys.stdout.flush()
            return

    threading.Thread(target=announce, daemon=True).start()
    rpc.serve_forever(f"127.0.0.1:{port}", args.cache_dir, args.threads)
    sys.exit(1)  # only reached when ggml refused to start the server


if __name__ == "__main__":
    main()
