from __future__ import annotations

from pathlib import Path

import pytest

from harness.nodes import NodeProcess


@pytest.fixture
def node_pair(tmp_path: Path):
    """Two running nodes, alpha on 127.0.0.1 and beta on 127.0.0.2, not paired, without mDNS."""
    a = NodeProcess(tmp_path / "a", "alpha", "127.0.0.1").start()
    b = NodeProcess(tmp_path / "b", "beta", "127.0.0.2").start()
    yield a, b
    a.stop()
    b.stop()
