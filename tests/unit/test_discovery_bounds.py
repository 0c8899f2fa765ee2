"""What is kept of what the network advertises, and where a paired device is believed to be."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hearth.core.device_id import device_id
from hearth.mesh import discovery
from hearth.mesh.discovery import Discovery, Neighbour
from hearth.mesh.identity import make_certificate
from hearth.mesh.trust import cert_der_from_pem
from hearth.service.node import Node, NodeOptions

PAIRED = "PAIRED-DEVICE"


def _fake(i: int, dev_id: str | None = None) -> Neighbour:
    # 127.x addresses only, as everything these tests make up.
    return Neighbour(
        dev_id or f"FAKE-{i}", f"fake{i}", "Linux", 1, "", 2, f"127.1.{i // 250}.{i % 250 + 1}", 9
    )


def _discovery() -> Discovery:
    return Discovery("ME", "me", 1, {}, is_paired=lambda dev_id: dev_id == PAIRED)


def test_fifteen_hundred_records_keep_a_bounded_table() -> None:
    d = _discovery()
    kept = sum(d.take(f"fake{i}._hearth._tcp.local.", _fake(i)) for i in range(1500))
    assert kept == discovery.MAX_UNPAIRED
    assert len(d.by_device()) == discovery.MAX_UNPAIRED
    assert len(d._no_room) <= discovery.MAX_WAITING
    # A hundred records claiming a paired device's ID: a few names, each only a suggestion.
    for i in range(100):
        assert d.take(f"claim{i}._hearth._tcp.local.", _fake(2000 + i, PAIRED))
    records = d.records(PAIRED)
    assert len(records) == discovery.MAX_NAMES_PER_PAIRED
    assert records[0].host == _fake(2099).host  # the newest first
    assert len(d.neighbours) == discovery.MAX_UNPAIRED + discovery.MAX_NAMES_PER_PAIRED


def test_silent_unpaired_neighbours_age_out_and_waiting_ones_take_their_place() -> None:
    d = _discovery()
    resolved: list[str] = []

    async def resolve(name: str) -> None:
        resolved.append(name)
        d.take(name, _fake(int(name.removeprefix("fake"))))

    async def scenario() -> None:
        d._resolve = resolve  # type: ignore[method-assign]
        for i in range(discovery.MAX_UNPAIRED + 10):
            d.take(f"fake{i}", _fake(i))
        now = time.monotonic()
        for i in range(5):  # five stopped answering a while ago
            d._failures[f"fake{i}"] = discovery.PROBE_FAILURES
            d._silent_since[f"fake{i}"] = now - discovery.UNPAIRED_GONE_S - 1
        d._tidy(now)
        await asyncio.sleep(0.05)  # the names that waited for room are resolved again

    asyncio.run(scenario())
    assert not any(f"fake{i}" in d.neighbours for i in range(5))
    assert len(resolved) == 5 and all(name in d.neighbours for name in resolved)
    assert len(d.neighbours) == discovery.MAX_UNPAIRED


def test_only_what_is_kept_is_probed_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    d = _discovery()
    for i in range(1500):
        d.take(f"fake{i}", _fake(i))
    probed: list[str] = []
    running = {"now": 0, "most": 0}
    first_round_done = asyncio.Event()  # a host probed again: the next round has begun

    async def probe(neighbour: Neighbour) -> bool:
        if neighbour.host in probed:
            first_round_done.set()
        probed.append(neighbour.host)
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.01)
        running["now"] -= 1
        return True

    monkeypatch.setattr(discovery, "PROBE_INTERVAL_S", 0.0)
    monkeypatch.setattr(Discovery, "_probe", staticmethod(probe))

    async def one_round() -> None:
        loop = asyncio.ensure_future(d._probe_loop())
        await first_round_done.wait()
        loop.cancel()

    asyncio.run(asyncio.wait_for(one_round(), 10))
    assert len(set(probed)) == discovery.MAX_UNPAIRED
    assert running["most"] <= discovery.PROBES_AT_ONCE


def test_a_paired_device_stays_where_it_proved_itself(hearth_home: Path) -> None:
    async def scenario() -> None:
        # In a loop: pairing starts the node's dialer for the device.
        node = Node(NodeOptions(name="me", discovery=False, probe=False))
        try:
            _check_addresses(node)
        finally:
            await node.peers.stop()

    asyncio.run(scenario())


def _check_addresses(node: Node) -> None:
    pem, _ = make_certificate()
    desk = node.trust.add("desk", pem.decode(), "127.0.0.5:47311")
    assert desk.device_id == device_id(cert_der_from_pem(pem.decode()))
    d = _discovery()
    d.is_paired = lambda dev_id: node.trust.get(dev_id) is not None
    node.discovery = d
    # A record that claims the desk's ID from elsewhere (as anyone on the network may send).
    d.take("liar._hearth._tcp.local.", _fake(66, desk.device_id))
    liar = _fake(66).address
    assert node.resolve(desk.device_id) == "127.0.0.5:47311"
    assert desk.device_id not in node.neighbours()
    (row,) = [r for r in node.devices() if r.device_id == desk.device_id]
    assert row.address == "127.0.0.5:47311" and not row.online
    # The claim is tried, after the proven address, and becomes the address only once a channel
    # there authenticates (the dialer records that).
    assert node.peers.candidates(desk.device_id) == ["127.0.0.5:47311", liar]
    # A record at the proven address puts the device in sight.
    d.take(
        "desk._hearth._tcp.local.", Neighbour(desk.device_id, "desk", "Linux", 1, "", 2, "127.0.0.5", 47311)
    )
    assert node.neighbours()[desk.device_id].address == "127.0.0.5:47311"
    node.trust.seen(desk.device_id, address=liar)
    assert node.resolve(desk.device_id) == liar
