"""A donor lends its GPU within a VRAM cap of its own, beside the RAM cap: the setting's default,
what its telemetry reports of the devices its workers serve, and the planner's view of it."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from hearth.core import control
from hearth.core.control import ComputeDevice
from hearth.core.device_id import DeviceId
from hearth.core.memory import device_memory
from hearth.core.offload import Accelerator, gpu_headroom, pools
from hearth.core.plan import PlanKey, parse_plan, pool_key, split_key
from hearth.core.profile import read_profile
from hearth.mesh import pool, telemetry, workers
from hearth.mesh.workers import Reservation, Workers
from hearth.models import synthetic
from hearth.service.device_view import DeviceView
from hearth.service.planning import (
    DEFAULT_BYTES_PER_S,
    MAX_LENT_GPUS,
    named_specs,
    plan_columns,
    planning_devices,
)
from hearth.store.settings import Donation

GIB = 2**30
GPU = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
CPU = ComputeDevice("CPU", "CPU", "Xeon", 64 * GIB, 60 * GIB)


def test_the_vram_cap_defaults_to_the_gpus_memory_less_headroom() -> None:
    assert Donation().effective_vram(12 * GIB) == 12 * GIB - gpu_headroom(12 * GIB)
    assert Donation(max_vram=4 * GIB).effective_vram(12 * GIB) == 4 * GIB
    # A cap past what the GPU has lends what it has, less its headroom.
    assert Donation(max_vram=40 * GIB).effective_vram(12 * GIB) == 12 * GIB - gpu_headroom(12 * GIB)


def test_the_devices_served_are_the_gpu_then_the_cpu_each_capped() -> None:
    served = telemetry.served_devices([CPU, GPU], Donation(max_vram=4 * GIB), donated_bytes=32 * GIB)
    assert [(c.kind, c.memory_total, c.memory_free) for c in served] == [
        ("GPU", 4 * GIB, 4 * GIB),
        ("CPU", 32 * GIB, 32 * GIB),
    ]


def test_an_integrated_gpu_is_held_to_the_ram_donated() -> None:
    igpu = ComputeDevice("IGPU", "Vulkan0", "Radeon 780M", 32 * GIB, 30 * GIB)
    served = telemetry.served_devices([igpu, CPU], Donation(), donated_bytes=8 * GIB)
    assert [(c.kind, c.memory_total) for c in served] == [("IGPU", 8 * GIB), ("CPU", 8 * GIB)]


def test_a_sample_lists_the_served_devices_only_while_donating() -> None:
    assert telemetry.sample().served == []
    donating = telemetry.sample(GIB, donation=Donation(enabled=True))
    assert donating.served and donating.served[-1].kind == "CPU"
    assert donating.served[-1].memory_total <= GIB


def _gpu(gib: int) -> ComputeDevice:
    return ComputeDevice("GPU", "CUDA0", "RTX", gib * GIB, gib * GIB)


def _donor(**fields: Any) -> DeviceView:
    base: dict[str, Any] = {
        "device_id": "BETA-ID",
        "short_id": "BETA",
        "name": "beta",
        "paired": True,
        "connected": True,
        "memory_total": 64 * GIB,
        "memory_free": 60 * GIB,
        "donated_bytes": 32 * GIB,  # more RAM than the GPU holds
        "compute": [GPU, CPU],
    }
    return DeviceView(**{**base, **fields})


def _host() -> DeviceView:
    return DeviceView(
        device_id=DeviceId("ALPHA-ID"),
        short_id="ALPH",
        name="alpha",
        this_device=True,
        memory_total=16 * GIB,
        memory_free=8 * GIB,
    )


def test_a_donor_lending_more_ram_than_its_vram_is_planned_within_its_vram_cap() -> None:
    cap = 4 * GIB
    served = telemetry.served_devices([GPU, CPU], Donation(max_vram=cap), donated_bytes=32 * GIB)
    beta = planning_devices([_host(), _donor(served=served)])[1]
    # Two pools: its GPU within the VRAM cap, its RAM within the donation, each planned on its own.
    (gpu,) = beta.spec.accelerators
    assert gpu.memory_bytes == cap and gpu.name == GPU.description
    assert beta.usable == beta.spec.memory_bytes == 32 * GIB
    columns = plan_columns(planning_devices([_host(), _donor(served=served)]))
    assert [(c.key, c.gpu, c.usable) for c in columns[1:]] == [
        (pool_key(PlanKey("BETA-ID"), 0), GPU.description, cap),
        ("BETA-ID", "", 32 * GIB),
    ]


def test_what_the_loaded_model_holds_on_a_donors_gpu_is_free_to_the_next_plan() -> None:
    served = telemetry.served_devices([GPU, CPU], Donation(), donated_bytes=32 * GIB)
    busy = ComputeDevice("GPU", "CUDA0", GPU.description, 12 * GIB, 2 * GIB)
    row = _donor(served=served, compute=[busy, CPU])
    alone = planning_devices([_host(), row])[1].spec.accelerators[0].memory_bytes
    held: dict[str, int] = {pool_key(PlanKey("BETA-ID"), 0): 9 * GIB}
    again = planning_devices([_host(), row], held)[1].spec.accelerators[0].memory_bytes
    assert again == alone + 9 * GIB


def test_a_donors_integrated_gpu_and_cpu_share_the_ram_it_donates() -> None:
    igpu = ComputeDevice("IGPU", "Vulkan0", "Radeon 780M", 32 * GIB, 30 * GIB)
    served = telemetry.served_devices([igpu, CPU], Donation(), donated_bytes=8 * GIB)
    beta = planning_devices([_host(), _donor(served=served, compute=[igpu, CPU], donated_bytes=8 * GIB)])[1]
    (pool,) = beta.spec.accelerators
    assert pool.memory_bytes + beta.spec.memory_bytes <= 8 * GIB and pool.memory_bytes > 0


def test_without_a_cap_reported_a_donor_is_planned_within_its_free_vram() -> None:
    beta = planning_devices([_host(), _donor()])[1]
    vram = pools([Accelerator(GPU.description, GPU.memory_free, GPU.memory_total)])[0].memory_bytes
    assert beta.usable == vram < 32 * GIB


def _workers() -> Workers:
    async def on_lost(reservation: object, reason: str) -> None:
        pass

    return Workers(
        "beta",
        Donation,
        lambda: 64 * GIB,
        lambda: "build",
        ssl.create_default_context,
        lambda _: True,
        on_lost,
        None,
    )


def test_a_workers_gpu_is_charged_to_a_ledger_capped_by_the_vram_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    metal = ComputeDevice("GPU", "MTL0", "Apple M2", 24 * GIB, 24 * GIB)
    igpu = ComputeDevice("IGPU", "Vulkan1", "Radeon 780M", 32 * GIB, 32 * GIB)
    monkeypatch.setattr(workers, "_served_devices", lambda: (_gpu(12), igpu, metal, CPU))
    here = _workers()
    gpu, on_igpu, on_metal, cpu = here._device_ledgers(Donation(enabled=True, max_vram=4 * GIB))
    assert gpu.cap_bytes == 4 * GIB and gpu is not cpu
    # An integrated GPU's memory is the RAM (Apple Silicon's too): it draws on the CPU's ledger, the RAM cap.
    assert on_igpu is cpu and on_metal is cpu
    # A new cap applies to the same ledger, which every reservation here shares.
    again = here._device_ledgers(Donation(enabled=True))
    assert again[0] is gpu and gpu.cap_bytes == 12 * GIB - gpu_headroom(12 * GIB)


def test_a_reservation_is_held_to_each_gpus_cap_and_names_the_gpus_it_lends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metal = ComputeDevice("GPU", "MTL0", "Apple M2", 24 * GIB, 24 * GIB)
    monkeypatch.setattr(workers, "_served_devices", lambda: (_gpu(12), metal, CPU))
    here = _workers()
    here._donation = lambda: Donation(enabled=True, max_vram=4 * GIB)

    def ask(memory: int, on_gpus: dict[int, int]) -> str:
        reply = asyncio.run(here.reserve("HOST-ID", control.Reserve(1, memory, 1, "build", on_gpus)))
        assert isinstance(reply, control.Refused)
        return reply.reason

    assert "lends 4096 MiB of its GPU number 0 (4096 MiB free of it); this plan needs 5120 MiB" in ask(
        GIB, {0: 5 * GIB}
    )
    assert "GPU number 0" in ask(GIB, {0: -1})
    assert "GPU number 2; it lends 2 GPUs" in ask(GIB, {2: GIB})
    # The GPU's share is not the RAM's: the RAM's own need is what the donation is held to.
    assert "this plan needs 40960 MiB there" in ask(40 * GIB, {0: GIB})
    # Apple Silicon's GPU shares the RAM: what it takes adds to the RAM's need (the donation is 32 GiB).
    assert "this plan needs 40960 MiB there" in ask(20 * GIB, {1: 20 * GIB})

    async def no_worker(host_id: str, threads: int) -> None:
        raise OSError("no worker in this test")

    here._start_worker = no_worker  # type: ignore[method-assign,assignment]
    # Within every cap, the checks pass and the worker is started.
    assert "could not start a worker: no worker in this test" in ask(GIB, {0: 4 * GIB, 1: 8 * GIB})
    # Another host's claim on the GPU leaves the rest of its cap to this one.
    here._gpu_claims["OTHER-ID"] = {0: 3 * GIB}
    assert "(1024 MiB free of it); this plan needs 2048 MiB there" in ask(GIB, {0: 2 * GIB})
    assert "could not start a worker" in ask(GIB, {0: GIB})
    # So does a reservation another host holds there; this host's own, which a new one replaces, not.
    del here._gpu_claims["OTHER-ID"]
    for host in ("OTHER-ID", "HOST-ID"):
        held = Reservation("r-" + host, host, b"", 0, 1, None, here._ledger, gpu_memory={0: 3 * GIB})  # type: ignore[arg-type]
        here.reservations[held.id] = held
    assert here.used_gpu_memory(0, except_host="HOST-ID") == 3 * GIB
    assert "(1024 MiB free of it)" in ask(GIB, {0: 2 * GIB})
    here.reservations.clear()


def test_a_host_asks_a_donor_for_each_pool_of_its_plan_in_one_reservation(tmp_path: Path) -> None:
    path = synthetic.write_model(tmp_path / "tiny.gguf", synthetic.TINY)
    profile = read_profile(str(path))
    plan = parse_plan("host:0-1,pc/gpu0:2-4,pc:5-7", 8)
    (device,) = plan.remote_devices
    cpu, gpus = pool.needs(profile, plan.remote, 512, "f16")
    assert device == "pc"
    assert cpu == device_memory(profile, 5, 8, 512, "f16").total
    assert gpus == {0: device_memory(profile, 2, 5, 512, "f16").total}


def test_what_a_donors_telemetry_says_of_its_gpus_is_bounded() -> None:
    many = [ComputeDevice("GPU", f"CUDA{i}", "RTX", 12 * GIB, 12 * GIB) for i in range(40)]
    served = telemetry.served_devices([*many, CPU], Donation(), donated_bytes=8 * GIB)
    beta = planning_devices([_host(), _donor(served=served, compute=[*many, CPU], bytes_per_s=50e9)])[1]
    assert len(beta.spec.accelerators) == MAX_LENT_GPUS
    # None of its GPUs probed: its CPU's figure may be an older version's GPU probe, so it is not trusted
    # above the default.
    assert beta.spec.bytes_per_s == DEFAULT_BYTES_PER_S


def test_a_device_whose_name_reads_as_a_gpus_key_is_named_by_its_id() -> None:
    devices = planning_devices([_host(), _donor(name="alpha/gpu0")])
    _, (beta,) = named_specs(devices)
    assert beta.name == "BETA-ID"
    assert split_key(PlanKey("x/gpu²")) == ("x/gpu²", None)  # a digit, but not one a plan writes
