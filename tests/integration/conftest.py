from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.nodes import NodeProcess
from hearth.engine import rpc_worker


@pytest.fixture
def node_pair(tmp_path: Path):
    """Two running nodes, alpha on 127.0.0.1 and beta on 127.0.0.2, not paired, without mDNS."""
    a = NodeProcess(tmp_path / "a", "alpha", "127.0.0.1").start()
    b = NodeProcess(tmp_path / "b", "beta", "127.0.0.2").start()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(scope="module")
def rpc_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two of Hearth's RPC workers on 127.0.0.1 (no tunnel, no node): their endpoints."""
    root = tmp_path_factory.mktemp("rpc")
    procs, endpoints = [], []
    try:
        for i in range(2):
            proc = subprocess.Popen(rpc_worker.command(1, str(root / f"cache{i}")), stdout=subprocess.PIPE)
            procs.append(proc)
            assert proc.stdout is not None
            for line in proc.stdout:
                match = rpc_worker.READY.search(line)
                if match:
                    endpoints.append(f"127.0.0.1:{int(match.group(1))}")
                    threading.Thread(target=proc.stdout.read, daemon=True).start()
                    break
        assert len(endpoints) == 2, "an RPC worker did not start"
        yield endpoints
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
