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
import time

from hearth.engine import rpc
from hearth.engine.threads import default_threads

READY_TIMEOUT_S = 30.0
# What a starter waits for READY: the interpreter and ggml's start-up come before the worker's own wait.
START_TIMEOUT_S = 60.0
READY = re.compile(rb"READY (\d+)")


def command(threads: int, cache_dir: str) -> list[str]:
    """How to start a worker; it prints a line matching ``READY`` once it can be reached."""
    return [
        sys.executable,
        "-m",
        "hearth.engine.rpc_worker",
        "--threads",
        str(threads),
        "--cache-dir",
        cache_dir,
    ]


async def start(threads: int, cache_dir: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start a worker and wait until it can be reached: (process, port). Its stdout carries a line
    per accepted connection; the caller keeps reading it so that the server never blocks on it."""
    proc = await asyncio.create_subprocess_exec(
        *command(threads, cache_dir), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--cache-dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.cache_dir, exist_ok=True)
    port = _free_port()
    import threading

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
