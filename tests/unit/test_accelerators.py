"""This machine's and other devices' accelerators: reported, planned as pools, handed to llama.cpp."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hearth.core.control import ComputeDevice, Telemetry
from hearth.core.offload import GPU_BYTES_PER_S, Accelerator, gpu_headroom, local_plan
from hearth.core.plan import HOST, Assignment, Plan, PlanError, PlanKey, parse_plan, pool_key
from hearth.core.planner import CostModel, Role
from hearth.core.profile import read_profile
from hearth.core.speed import Speed
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest
from hearth.mesh import telemetry
from hearth.models import synthetic
from hearth.service import probe
from hearth.service.planning import MOST_BYTES_PER_S, headroom, planning_devices
from hearth.store.settings import Donation
from tests.unit.test_planning import GIB, donor, row

RTX = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
CPU = ComputeDevice("CPU", "CPU", "AMD Ryzen 7", 32 * GIB, 20 * GIB)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.write_model(tmp_path_factory.mktemp("m") / "tiny.gguf", synthetic.TINY)


def test_telemetry_carries_each_compute_device_and_older_peers_read_it() -> None:
    sample = telemetry.sample()
    assert any(c.kind == "CPU" for c in sample.compute)  # every build of llama.cpp has its CPU
    assert all(c.memory_total >= c.memory_free >= 0 for c in sample.compute)
    again = msgspec.json.decode(msgspec.json.encode(sample), type=Telemetry)
    assert again.compute == sample.compute
    # A peer of an earlier version sends no compute devices: it still decodes.
    old = msgspec.json.encode(msgspec.structs.replace(sample, compute=[]))
    assert b"compute" in old and msgspec.json.decode(old, type=Telemetry).compute == []


def test_this_devices_gpu_is_a_pool_of_its_own_beside_its_ram() -> None:
    me = row(this_device=True, compute=[RTX, CPU])
    host = planning_devices([me])[0]
    assert host.key == HOST and host.usable == 8 * GIB - headroom(16 * GIB)
    (gpu,) = host.spec.accelerators
    assert gpu.name == "NVIDIA GeForce RTX 3060" and gpu.memory_bytes == 11 * GIB - gpu_headroom(12 * GIB)


def test_an_integrated_gpus_memory_is_not_counted_twice() -> None:
    igpu = ComputeDevice("IGPU", "Vulkan0", "Intel Iris Xe", 4 * GIB, 4 * GIB)
    host = planning_devices([row(this_device=True, compute=[igpu, CPU])])[0]
    (gpu,) = host.spec.accelerators
    assert host.spec.memory_bytes + gpu.memory_bytes == 8 * GIB - headroom(16 * GIB)


def test_a_donor_with_a_gpu_is_planned_within_its_vram_whatever_ram_it_donates() -> None:
    small = ComputeDevice("GPU", "CUDA0", "RTX 3050", 8 * GIB, 6 * GIB)
    rows = [
        row(this_device=True),
        donor("pc", donated_bytes=16 * GIB, memory_total=64 * GIB, memory_free=40 * GIB, compute=[small]),
    ]
    pc = planning_devices(rows)[1]
    assert pc.usable == 6 * GIB - gpu_headroom(8 * GIB) and pc.spec.memory_bytes == pc.usable
    assert pc.spec.bytes_per_s > planning_devices(rows)[0].spec.bytes_per_s  # at the GPU's speed


def test_a_plan_on_this_devices_gpu_becomes_llama_cpps_device_list(tiny: Path) -> None:
    profile = read_profile(str(tiny))
    L = profile.block_count
    plan = parse_plan(f"host:0-1,host/gpu0:2-{L - 3},B:{L - 2}-{L - 1}", L)
    load = m.LoadModel.for_plan(profile, plan, 512, rpc_servers=["127.0.0.1:1"])
    assert load.host_gpus == [0] and load.rpc_servers == ["127.0.0.1:1"]
    assert load.n_gpu_layers == L + 1 - 2 and load.tensor_split == [float(L - 4), 3.0]
    alone = m.LoadModel.for_plan(profile, parse_plan(f"host/gpu1:0-{L - 1}", L), 512)
    assert alone.host_gpus == [1] and alone.n_gpu_layers == L + 1 and alone.tensor_split == [L + 1.0]
    # The engine lists this machine's accelerators first: a plan that puts one after a worker is
    # refused as it is written, and as a message the engine is sent.
    late = f"host:0,B:1-2,host/gpu0:3-{L - 1}"
    with pytest.raises(PlanError, match="GPUs take the layers right after its CPU's"):
        parse_plan(late, L)
    written = parse_plan(late.replace("host/gpu0", "C"), L).assignments[:2]
    unchecked = Plan(L, (*written, Assignment(pool_key(HOST, 0), 3, L)))
    with pytest.raises(BadRequest, match="accelerators must come before other devices"):
        m.LoadModel.for_plan(profile, unchecked, 512, rpc_servers=["127.0.0.1:1"])


def test_a_local_load_fills_the_gpus_first_and_the_cpu_with_the_rest(tiny: Path) -> None:
    profile = read_profile(str(tiny))
    L = profile.block_count
    assert str(local_plan(profile, 512, "f16", [])) == ""  # no accelerator: llama.cpp's CPU default
    roomy = Accelerator("GPU", 8 * GIB, 8 * GIB)
    assert str(local_plan(profile, 512, "f16", [roomy])) == f"host/gpu0:0-{L - 1}"
    # Two GPUs with room for part of the model each: both used, the CPU only for what is left.
    model = CostModel(profile, 512, "f16")
    half = L // 2
    first = Accelerator("GPU", gpu_headroom(GIB) + model.memory(0, half, Role.HEAD).total, GIB)
    second = Accelerator("GPU", gpu_headroom(GIB) + model.memory(half, L - 1, Role.PLAIN).total, GIB)
    plan = local_plan(profile, 512, "f16", [first, second])
    assert str(plan) == f"host:0,host/gpu0:1-{half},host/gpu1:{half + 1}-{L - 1}"
    assert plan.llama_params()[0] == sum(a.count for a in plan.offloaded) + (1 if plan.offloaded else 0)


def test_unknown_pools_never_reach_the_engine(tiny: Path) -> None:
    profile = read_profile(str(tiny))
    plan = parse_plan(f"host:0,{pool_key(PlanKey('pc'), 0)}:1-{profile.block_count - 1}", profile.block_count)
    assert plan.remote and not plan.host_accelerators  # another device's GPU is a remote range


def test_apple_silicons_unified_memory_is_counted_once() -> None:
    metal = ComputeDevice("GPU", "MTL0", "Apple M4", 12 * GIB, 12 * GIB)
    host = planning_devices([row(this_device=True, compute=[metal, CPU])])[0]
    (gpu,) = host.spec.accelerators
    assert host.spec.memory_bytes + gpu.memory_bytes <= 8 * GIB - headroom(16 * GIB)


def test_each_gpus_probe_is_reported_in_order_and_planned_at_its_speed() -> None:
    arc = ComputeDevice("GPU", "Vulkan1", "Intel Arc A380", 6 * GIB, 6 * GIB)
    probed = telemetry.with_speeds([RTX, arc, CPU], [Speed(300e9, 2e-5, 0.0), None])
    assert [(c.bytes_per_s, c.layer_s) for c in probed] == [(300e9, 2e-5), (0.0, 0.0), (0.0, 0.0)]
    again = msgspec.json.decode(msgspec.json.encode(probed), type=list[ComputeDevice])
    assert again == probed
    host = planning_devices([row(this_device=True, compute=probed)])[0]
    rtx, unprobed = host.spec.accelerators
    assert (rtx.bytes_per_s, rtx.layer_s) == (300e9, 2e-5)
    assert unprobed.bytes_per_s == GPU_BYTES_PER_S  # assumed until it has a probe of its own
    # A donor's probed GPU is planned at its speed too, beside its CPU at the CPU's.
    served = telemetry.served_devices([*probed[:1], CPU], Donation(), donated_bytes=8 * GIB)
    assert served[0].bytes_per_s == 300e9  # the cap keeps the probe
    pc = donor("pc", compute=[*probed[:1], CPU], served=served, bytes_per_s=30e9)
    spec = planning_devices([row(this_device=True), pc])[1].spec
    assert spec.accelerators[0].bytes_per_s == 300e9 and spec.bytes_per_s == 30e9


def test_the_cpus_probe_keeps_every_layer_on_the_cpu_and_a_gpus_every_layer_on_that_gpu() -> None:
    cpu = probe.probe_load("p.gguf", 2, None)
    assert cpu.n_gpu_layers == 0 and cpu.host_gpus == [] and cpu.n_threads == 2
    gpu = probe.probe_load("p.gguf", None, 1)
    assert gpu.n_gpu_layers == -1 and gpu.host_gpus == [1] and gpu.tensor_split is None


def test_a_probe_past_belief_is_held_to_what_a_computer_can_read() -> None:
    boast = ComputeDevice("GPU", "CUDA0", "RTX", 12 * GIB, 11 * GIB, bytes_per_s=1e300, layer_s=-5.0)
    (gpu,) = planning_devices([row(this_device=True, compute=[boast, CPU])])[0].spec.accelerators
    assert gpu.bytes_per_s == MOST_BYTES_PER_S and gpu.layer_s == 0.0
    # A paired device's own CPU figures alike.
    pc = donor("pc", bytes_per_s=1e300, layer_ms=-3.0)
    spec = planning_devices([row(this_device=True), pc])[1].spec
    assert spec.bytes_per_s == MOST_BYTES_PER_S and spec.layer_s == 0.0
