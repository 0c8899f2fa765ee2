"""What a paired host can take from a donor: reservations made one at a time per host and few in all,
memory within the donation on one ledger, and the weight cache on the donor's disk held to a quota.
The workers are stand-in processes (they echo what they are sent, as a worker's log lines)."""

from __future__ import annotations

import asyncio
import os
import ssl
import struct
import sys
import time
from pathlib import Path

import pytest

from hearth.core import control
from hearth.core.rpc_filter import RpcFilter
from hearth.core.rpc_protocol import Cmd
from hearth.core.units import MIB
from hearth.engine import rpc_worker
from hearth.engine.rpc import graph_rules
from hearth.mesh import workers as workers_module
from hearth.mesh.workers import Reservation, Workers, trim_cache
from hearth.store import paths
from hearth.store.settings import Donation

DONATED = 1000 * MIB
BUILD = "test-build"
# A worker that starts in a moment and then repeats every line it is sent, as the server logs lines.
ECHO = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n    sys.stdout.flush()\n"


class Donor:
    """``Workers`` with a donation of ``DONATED`` and workers that take a while to start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[str] = []
        self.lost: list[str] = []

        async def start_worker(_self: Workers, host_id: str, threads: int) -> rpc_worker.Worker:
            await asyncio.sleep(0.2)  # the await that a check and its record must not straddle
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                ECHO,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            self.started.append(host_id)
            return rpc_worker.Worker(proc, 1, None)

        async def on_lost(reservation: Reservation, reason: str) -> None:
            self.lost.append(reason)

        monkeypatch.setattr(Workers, "_start_worker", start_worker)
        self.workers = Workers(
            "donor",
            lambda: Donation(enabled=True, max_memory=DONATED),
            lambda: 8 * DONATED,
            lambda: BUILD,
            lambda: ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            lambda _dev_id: True,
            on_lost,
            "127.0.0.1",
        )

    async def reserve(self, host: str, memory: int, request_id: int = 1) -> control.ControlMessage:
        return await self.workers.reserve(host, control.Reserve(request_id, memory, 1, BUILD))

    async def close(self) -> None:
        await self.workers.release_all("the test is over")
        self.workers.close()


def _reserved(answers: list[control.ControlMessage]) -> list[control.Reserved]:
    return [a for a in answers if isinstance(a, control.Reserved)]


def _refusals(answers: list[control.ControlMessage]) -> list[str]:
    return [a.reason for a in answers if isinstance(a, control.Refused)]


def test_a_host_that_asks_again_before_its_answer_gets_one_worker(monkeypatch) -> None:
    donor = Donor(monkeypatch)

    async def scenario() -> list[control.ControlMessage]:
        try:
            return list(await asyncio.gather(*(donor.reserve("host-a", 10 * MIB, i) for i in range(5))))
        finally:
            assert len(donor.workers.reservations) <= 1
            await donor.close()

    answers = asyncio.run(scenario())
    assert len(_reserved(answers)) == 1, answers
    assert all("still answering" in reason for reason in _refusals(answers)), answers
    assert donor.started == ["host-a"]


def test_hosts_asking_at_once_never_reserve_more_than_the_donation_or_the_cap(monkeypatch) -> None:
    donor = Donor(monkeypatch)
    cap = getattr(workers_module, "MAX_RESERVATIONS", 8)

    async def scenario() -> tuple[list[control.ControlMessage], list[control.ControlMessage]]:
        try:
            big = list(
                await asyncio.gather(donor.reserve("host-a", 600 * MIB), donor.reserve("host-b", 600 * MIB))
            )
            await donor.workers.release_all("next round")
            many = await asyncio.gather(*(donor.reserve(f"host-{i}", 10 * MIB) for i in range(cap + 4)))
            assert len(donor.workers.reservations) <= cap
            return big, list(many)
        finally:
            await donor.close()

    big, many = asyncio.run(scenario())
    assert len(_reserved(big)) == 1, big
    assert "donates 1000 MiB" in _refusals(big)[0]
    assert len(_reserved(many)) == cap, many
    assert all(f"already runs {cap} workers" in reason for reason in _refusals(many)), many


def _alloc(filt: RpcFilter, size: int, ptr: int) -> bool:
    """Ask for a buffer through the filter, as llama.cpp would, and let the server grant it."""
    to_server, to_client = filt.from_client(bytes([Cmd.ALLOC_BUFFER]) + struct.pack("<QIQ", 12, 0, size))
    if to_client:  # answered by the filter: refused
        return False
    assert to_server
    filt.from_server(struct.pack("<QQQ", 16, ptr, size))
    return True


def test_reservations_share_one_ledger_and_a_negative_reservation_is_refused(monkeypatch) -> None:
    donor = Donor(monkeypatch)

    async def scenario() -> tuple[control.ControlMessage, list[Reservation]]:
        try:
            negative = await donor.reserve("host-a", -(2**40))
            await donor.reserve("host-b", 500 * MIB)
            await donor.reserve("host-c", 400 * MIB)
            return negative, list(donor.workers.reservations.values())
        finally:
            await donor.close()

    negative, (b, c) = asyncio.run(scenario())
    assert isinstance(negative, control.Refused), negative
    assert "0 bytes or more" in negative.reason
    rules = graph_rules()
    # Each allocates more than it reserved: together they stop at the donation, whoever asks first.
    c_filter, b_filter = RpcFilter(c.ledger, rules), RpcFilter(b.ledger, rules)
    assert _alloc(c_filter, 400 * MIB, 0x1000)
    assert not _alloc(b_filter, 700 * MIB, 0x2000)
    assert _alloc(b_filter, 600 * MIB, 0x3000)
    assert not _alloc(c_filter, 1, 0x4000)
    assert b.ledger is c.ledger and b.ledger.cap_bytes == DONATED
    assert b.links.limit == workers_module.MAX_TUNNEL_CONNECTIONS


def _write(folder: Path, name: str, size: int, age_s: float) -> Path:
    path = folder / name
    path.write_bytes(b"w" * size)
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def test_trim_cache_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    old = _write(tmp_path, "0000000000000001", 400, age_s=3000)
    middle = _write(tmp_path, "0000000000000002", 400, age_s=2000)
    new = _write(tmp_path, "0000000000000003", 400, age_s=10)
    (tmp_path / "link").symlink_to(new)
    assert trim_cache(tmp_path, 1200) == 0
    # A link is neither followed nor kept (ggml's cache holds files only); what it named stays.
    assert not (tmp_path / "link").is_symlink() and new.exists()
    assert trim_cache(tmp_path, 900) == 400
    assert not old.exists() and middle.exists() and new.exists()
    assert trim_cache(tmp_path, 100) == 800
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert trim_cache(tmp_path / "absent", 0) == 0


def test_a_hosts_weight_cache_is_held_to_its_quota_while_it_is_used_and_after(monkeypatch) -> None:
    donor = Donor(monkeypatch)
    quota = 1 * MIB
    monkeypatch.setattr(Workers, "cache_quota", lambda _self: quota, raising=False)
    monkeypatch.setattr(workers_module, "CACHE_CHECK_S", 30.0, raising=False)

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        # The worker's cache folder for this host, as the donor names it.
        folder = paths.cache_dir() / "rpc" / "hosta"
        folder.mkdir(parents=True, exist_ok=True)
        # Left by earlier reservations: over the quota already.
        for i in range(4):
            _write(folder, f"00000000000000a{i}", 400 * 1024, age_s=5000 - i)
        try:
            await donor.reserve("host-a", 10 * MIB)
            at_start = sorted(p.name for p in folder.iterdir())
            (reservation,) = donor.workers.reservations.values()
            # The worker saves two new tensors and says so; the oldest files go, the new ones stay.
            for i in range(2):
                _write(folder, f"00000000000000b{i}", 400 * 1024, age_s=0)
            stdin = reservation.worker.proc.stdin
            assert stdin is not None
            stdin.write(f"[set_tensor] saved to '{folder}/00000000000000b1'\n".encode())
            await stdin.drain()
            deadline = time.monotonic() + 5
            # The donor trims on reading that line and marks nothing when done: the folder's size shows it.
            while time.monotonic() < deadline and _size(folder) > quota:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            during = sorted(p.name for p in folder.iterdir())
            _write(folder, "00000000000000c0", 900 * 1024, age_s=0)
            await donor.workers.release(reservation.id)
            return at_start, during, sorted(p.name for p in folder.iterdir())
        finally:
            await donor.close()

    at_start, during, after = asyncio.run(scenario())
    assert at_start == ["00000000000000a2", "00000000000000a3"], at_start
    assert during == ["00000000000000b0", "00000000000000b1"], during
    assert after == ["00000000000000c0"], after


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())
