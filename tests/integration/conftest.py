from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.filtered_workers import FilteredWorkers
from harness.nodes import NodeProcess


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
    """Two of Hearth's RPC workers on 127.0.0.1, each behind the filter a donor's tunnel relays
    through (no TLS, no node): their endpoints. Every graph the tests send them is checked."""
    workers = FilteredWorkers(tmp_path_factory.mktemp("rpc"))
    try:
        yield workers.endpoints
        assert workers.seen.refusals == [], workers.seen.refusals
    finally:
        workers.close()


@pytest.fixture
def netns() -> Iterator[list[str]]:
    """A private network namespace with multicast on its loopback, as a command prefix. Skips where
    it cannot be made (root without CAP_SYS_ADMIN in a container, say) rather than erroring."""
    name = f"hearth-test-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {made.stderr.strip()}")
    try:
        for cmd in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "set", "lo", "multicast", "on"],
            ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
        ):
            subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)
        yield ["ip", "netns", "exec", name]
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
