"""A worker confines itself before its server starts: no new privileges, and where the kernel has
Landlock, files written only beneath its cache folder and TCP only to its own port. It still serves."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
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
            status = Path(f"/proc/{worker.proc.pid}/status").read_text()
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
    assert answer[:8] == struct.pack("<Q", 4 + 24)  # HELLO's answer: the version and capabilities


# The worker's own start-up, with its server replaced by a probe that tries what a hijacked server
# might: it runs where ggml's server would, after the worker has confined itself.
PROBE = r"""
import json, os, socket, sys
from hearth.engine import rpc, rpc_worker

OUTSIDE, LISTENER, CACHE = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return "denied" if exc.errno in (1, 13) else f"error {exc.errno}"

def write(path):
    with open(path, "w") as f:
        f.write("x")

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
    }
    print("PROBE " + json.dumps(found), flush=True)
    os._exit(0)

rpc.serve_forever = probe
sys.argv = ["rpc_worker", "--threads", "1", "--cache-dir", CACHE]
rpc_worker.main()
"""


@pytest.mark.skipif(not sandbox.landlock_abi(), reason="this kernel has no Landlock")
def test_a_confined_worker_writes_only_beneath_its_cache_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "existing").write_text("keep")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                PROBE,
                str(outside),
                str(listener.getsockname()[1]),
                str(tmp_path / "cache"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    lines = [line for line in run.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, run.stdout + run.stderr
    found = json.loads(lines[0][len("PROBE ") :])
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
