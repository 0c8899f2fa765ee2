"""A donor's worker serving two devices from one RPC server, GPU first, then CPU, each held by the
filter to its own cap. The GPU is an RPC device pointing at another raw worker on loopback: llama.cpp
treats an RPC device as a GPU, so a machine without one can still test this. A pooled load puts
layers on both devices, answers exactly as a load on the host alone, and the stand-in GPU's cap
refuses what does not fit while the CPU goes on allocating."""

from __future__ import annotations

import asyncio
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from harness.plans import pooled_load
from hearth.core.plan import parse_plan
from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.rpc_protocol import CONN_CAPS_SIZE, Cmd
from hearth.core.units import MIB
from hearth.engine import messages as m
from hearth.engine import rpc, rpc_worker
from hearth.engine.client import EngineClient
from hearth.mesh.tunnel import relay
from hearth.models import synthetic

VRAM_CAP = 64 * MIB
RAM_CAP = 1 << 34
START_LINES = 50  # a worker says READY within a few lines (CONFINED, NOT ISOLATED) or not at all


def _start(args: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for _ in range(START_LINES):
        line = proc.stdout.readline()
        if not line:
            break
        if match := rpc_worker.READY.search(line):
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # its connection lines
            return proc, int(match.group(1))
    proc.kill()
    proc.wait()
    raise RuntimeError("an RPC worker did not start")


@dataclass
class Donor:
    """A donor worker serving [stand-in GPU, CPU] behind a filter; ``endpoint`` is the filter's."""

    endpoint: str
    vram: Ledger
    ram: Ledger
    procs: list[subprocess.Popen[bytes]]
    listener: socket.socket
    refusals: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def donor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Donor]:
    root = tmp_path_factory.mktemp("donor")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        gpu, gpu_port = _start(rpc_worker.command(1, str(root / "gpu")))
        procs.append(gpu)
        worker, port = _start([*rpc_worker.command(1, str(root / "donor")), "--stand-in-gpu", str(gpu_port)])
        procs.append(worker)
    except BaseException:
        for proc in procs:
            proc.kill()
            proc.wait()
        raise
    listener = socket.create_server(("127.0.0.1", 0))
    found = Donor(
        f"127.0.0.1:{listener.getsockname()[1]}", Ledger(VRAM_CAP), Ledger(RAM_CAP), procs, listener
    )
    rules = rpc.graph_rules()

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
            upstream.settimeout(None)
            filt = RpcFilter([found.vram, found.ram], rules, threads=1)

            def run(
                client: socket.socket = client, upstream: socket.socket = upstream, filt: RpcFilter = filt
            ) -> None:
                why = relay(client, upstream, filt, threading.Lock())
                if why.startswith("refused"):
                    found.refusals.append(why)

            threading.Thread(target=run, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield found
    finally:
        listener.close()
        for proc in procs:
            proc.kill()
            proc.wait()


def _greedy_request() -> m.Generate:
    return m.Generate(0, prompt="Once upon a time", max_tokens=12, temperature=0.0, ignore_eos=True)


def test_a_pooled_load_puts_layers_on_both_devices_and_answers_as_alone(donor: Donor, tmp_path: Path) -> None:
    path = synthetic.write_model(tmp_path / "tiny.gguf", synthetic.TINY)
    # Two remote columns, both the donor: add_server gives the host its two devices in order, the
    # first column the stand-in GPU's, the second the CPU's.
    load = pooled_load(
        path, parse_plan("A:0-3,B:4-7", synthetic.TINY.n_layer), [donor.endpoint, donor.endpoint]
    )
    load = msgspec.structs.replace(load, rpc_servers=[donor.endpoint])
    held: list[tuple[int, int]] = []

    async def scenario() -> tuple[list[int], list[int]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(path), n_ctx=512))
            alone: list[int] = []
            await client.generate(_greedy_request(), lambda t: alone.append(t.id))
            await client.load(load)
            held.append((donor.vram.used_bytes, donor.ram.used_bytes))
            pooled: list[int] = []
            await client.generate(_greedy_request(), lambda t: pooled.append(t.id))
            return alone, pooled
        finally:
            await client.close()

    alone, pooled = asyncio.run(asyncio.wait_for(scenario(), 240))
    assert donor.refusals == []
    assert len(alone) == 12 and pooled == alone
    ((vram_used, ram_used),) = held
    assert 0 < vram_used <= VRAM_CAP and ram_used > 0  # layers on both devices, the GPU's within its cap


def _call(sock: socket.socket, cmd: int, payload: bytes, reply: int) -> bytes:
    sock.sendall(bytes([cmd]) + struct.pack("<Q", len(payload)) + payload)
    got = b""
    while len(got) < 8 + reply:
        chunk = sock.recv(8 + reply - len(got))
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    return got[8:]


def test_past_the_vram_cap_is_refused_while_the_cpu_still_allocates(donor: Donor) -> None:
    host, port = donor.endpoint.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert len(_call(sock, Cmd.HELLO, bytes(CONN_CAPS_SIZE), 4 + CONN_CAPS_SIZE)) == 4 + CONN_CAPS_SIZE
        (count,) = struct.unpack("<I", _call(sock, Cmd.DEVICE_COUNT, b"", 4))
        assert count == 2
        free, total = struct.unpack("<QQ", _call(sock, Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 0), 16))
        assert total <= VRAM_CAP and free <= VRAM_CAP
        _, cpu_total = struct.unpack("<QQ", _call(sock, Cmd.GET_DEVICE_MEMORY, struct.pack("<I", 1), 16))
        assert cpu_total > VRAM_CAP
        ptr, _ = struct.unpack("<QQ", _call(sock, Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, VRAM_CAP + 1), 16))
        assert ptr == 0  # refused by the filter: the stand-in GPU never saw it
        ptr, size = struct.unpack(
            "<QQ", _call(sock, Cmd.ALLOC_BUFFER, struct.pack("<IQ", 1, VRAM_CAP + 1), 16)
        )
        assert ptr != 0 and size == VRAM_CAP + 1
        assert donor.ram.used_bytes >= VRAM_CAP + 1
        ptr, size = struct.unpack("<QQ", _call(sock, Cmd.ALLOC_BUFFER, struct.pack("<IQ", 0, MIB), 16))
        assert ptr != 0 and size == MIB  # the GPU's cap still lends what fits
        # A device the worker does not serve: the filter ends the connection, the worker lives on.
        with pytest.raises((ConnectionError, OSError)):
            _call(sock, Cmd.ALLOC_BUFFER, struct.pack("<IQ", 2, MIB), 16)
    assert all(proc.poll() is None for proc in donor.procs)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        assert len(_call(sock, Cmd.HELLO, bytes(CONN_CAPS_SIZE), 4 + CONN_CAPS_SIZE)) == 4 + CONN_CAPS_SIZE


def test_a_donor_of_two_devices_followed_by_another_keeps_each_range_where_planned(
    donor: Donor, tmp_path: Path
) -> None:
    """llama.cpp sees the donor's GPU and CPU as two devices: the plan's range for the donor goes to
    its GPU, and the next device's range to that device, not to the donor's CPU."""
    path = synthetic.write_model(tmp_path / "tiny.gguf", synthetic.TINY)
    other, port = _start(rpc_worker.command(1, str(tmp_path / "other")))
    second = f"127.0.0.1:{port}"
    load = pooled_load(
        path, parse_plan("host:0-1,A:2-4,B:5-7", synthetic.TINY.n_layer), [donor.endpoint, second]
    )

    async def scenario() -> tuple[list[int], list[int], dict[str, int]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(path), n_ctx=512))
            alone: list[int] = []
            await client.generate(_greedy_request(), lambda t: alone.append(t.id))
            loaded = await client.load(load)
            pooled: list[int] = []
            await client.generate(_greedy_request(), lambda t: pooled.append(t.id))
            return alone, pooled, loaded.buffers
        finally:
            await client.close()

    try:
        alone, pooled, buffers = asyncio.run(asyncio.wait_for(scenario(), 240))
    finally:
        other.kill()
        other.wait()
    assert pooled == alone
    on_second = sum(v for k, v in buffers.items() if second in k and k.endswith("model"))
    on_donor = {k: v for k, v in buffers.items() if donor.endpoint in k and k.endswith("model")}
    assert on_second > 0, buffers  # B's three layers are on B
    assert len([v for v in on_donor.values() if v > 0]) == 1, on_donor  # A's on one of its devices
