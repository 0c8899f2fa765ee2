"""A device with a GPU, as the window shows it: the Devices card has a bar for the GPU's memory beside
the RAM's, with the GPU's name, and the Planner a column for each pool, the GPU's first to take layers.

This machine has no GPU: the compute devices this device reports are described as a PC with an RTX card
reports them (the edge of the outside world: what the hardware says). Nothing is loaded on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.windows import close_window, open_window, run, until
from hearth.core.control import ComputeDevice
from hearth.core.plan import HOST, pool_key
from hearth.mesh import telemetry

GIB = 2**30
GPU = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
CPU = ComputeDevice("CPU", "CPU", "AMD Ryzen 7 5800X", 32 * GIB, 20 * GIB)


@pytest.fixture
def rtx_pc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "compute_devices", lambda: [GPU, CPU])


def test_a_gpu_gets_its_own_bar_and_its_own_planner_column(qtbot, loop, rtx_pc, tiny_model: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            card = window.devices.cards[next(iter(window.devices.cards))]
            await until(lambda: card.gpu_bars, what="the GPU's bar")
            ((label, bar),) = card.gpu_bars
            assert "NVIDIA GeForce RTX 3060" in label.text() and "GPU memory" in label.text()
            assert bar.capacity == 12 * GIB and [p.bytes for p in bar.parts] == [1 * GIB]
            assert card.memory.text().startswith("RAM: ")

            await services.models.import_file(str(tiny_model))
            page = window.planner
            window.nav.setCurrentRow(1)
            page.reload_models()
            await until(lambda: page.profile is not None and len(page.columns) == 2, what="two pools")
            ram, gpu = page.columns
            assert page.profile is not None
            n = page.profile.block_count
            assert ram.pool.text() == "CPU · RAM" and ram.pool.isVisible()
            assert gpu.pool.text() == "NVIDIA GeForce RTX 3060 · GPU memory"
            # The planner's best puts every layer on the GPU, which holds them all; its bar is VRAM.
            draft = page.draft
            assert draft is not None and draft.devices == [HOST, pool_key(HOST, 0)]
            assert draft.counts == [0, n]
            assert gpu.bar.capacity == 12 * GIB and gpu.layers.text().startswith("layers 0–")
            assert ram.layers.text() == "no layers"
            # Layers dropped on the RAM's column go to the CPU.
            assert page.plan.drop(0, 2, 0)
            assert str(draft.plan()) == f"host:0-1,{pool_key(HOST, 0)}:2-{n - 1}"
            assert "NVIDIA GeForce RTX 3060" in page.plan.named(str(draft.plan()))
        finally:
            await close_window(services, window)

    run(loop, scenario())
