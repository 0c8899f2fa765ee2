"""Three nodes find each other with mDNS inside a network namespace of their own."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from harness.nodes import NodeProcess

pytestmark = pytest.mark.skipif(
    not (sys.platform == "linux" and os.geteuid() == 0 and shutil.which("ip")),
    reason="needs Linux, root and iproute2 to make a private network namespace for multicast",
)


def test_three_nodes_discover_each_other_and_see_leavers_go(netns: list[str], tmp_path: Path) -> None:
    nodes = [
        NodeProcess(tmp_path / f"n{i}", f"node{i}", f"127.0.0.{i}", discovery=True, prefix=netns)
        for i in (1, 2, 3)
    ]
    try:
        for node in nodes:
            node.start()
        ready = max(node.wait_for_at(r"listening on")[1] for node in nodes)
        for node in nodes:
            for other in nodes:
                if other is not node:
                    _, found_at = node.wait_for_at(rf"found {other.name} ", timeout=10)
                    assert found_at - ready < 3.0, (
                        f"{node.name} found {other.name} {found_at - ready:.1f} s late"
                    )

        listed = nodes[0].devices()
        by_id = {d["device_id"]: d for d in listed}
        assert listed[0]["this_device"] and listed[0]["device_id"] == nodes[0].device_id
        for other in nodes[1:]:
            entry = by_id[other.device_id]
            assert entry["name"] == other.name and entry["paired"] is False and entry["online"]
            assert entry["memory_total"] > 0 and entry["address"] == other.address

        # A clean stop says goodbye.
        marks = [len(n.lines) for n in nodes[:2]]
        nodes[2].stop(signal.SIGTERM)
        for node, mark in zip(nodes[:2], marks, strict=True):
            node.wait_for(rf"lost {nodes[2].name} ", timeout=10, after=mark)
        # A node that dies without a word is noticed too.
        mark = len(nodes[0].lines)
        nodes[1].stop(signal.SIGKILL)
        nodes[0].wait_for(rf"lost {nodes[1].name} ", timeout=10, after=mark)
        assert {d["device_id"] for d in nodes[0].devices()} == {nodes[0].device_id}
    finally:
        for node in nodes:
            node.stop()
