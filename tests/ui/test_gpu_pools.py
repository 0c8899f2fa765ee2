"""A device with a GPU, as the window shows it: the Devices card has a bar for the GPU's memory beside
the RAM's, with the GPU's name, and the Planner a column for each pool, the GPU's first to take layers.

This machine has no GPU: the compute devices this device reports are described as a PC with an RTX card
reports them (the edge of the outside world: what the hardware says). Nothing is loaded on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.described import GIB, RTX, RYZEN, donors_report_an_rtx
from harness.windows import close_window, open_window, pair_through_dialog, run, until
from hearth.core.plan import HOST, PlanKey, pool_key
from hearth.mesh import telemetry


@pytest.fixture
def rtx_pc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "compute_devices", lambda: [RTX, RYZEN])


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


@pytest.fixture
def donor_reports_an_rtx() -> Iterator[None]:
    """What a paired PC with an RTX card reports of its compute devices, lending 6 GiB of its VRAM and
    the RAM it donates (the donor here is a real node on a machine without a GPU)."""
    with donors_report_an_rtx():
        yield


def test_a_donors_gpu_and_ram_are_columns_of_their_own(
    qtbot, loop, roomy_donor, donor_reports_an_rtx, tiny_model: Path, tmp_path: Path
) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            beta = await pair_through_dialog(window, services, roomy_donor)
            # Its card: the GPU's bar with what it lends there, as the RAM's shows what it donates.
            card = window.devices.cards[beta]
            await until(lambda: card.gpu_bars, what="beta's GPU bar")
            ((label, bar),) = card.gpu_bars
            assert label.text().startswith("NVIDIA GeForce RTX 3060 · GPU memory: 1.0 GiB used")
            assert label.text().endswith("donates 6.0 GiB"), label.text()
            assert [p.bytes for p in bar.parts] == [1 * GIB, 6 * GIB]
            await services.models.import_file(str(tiny_model))
            page = window.planner
            window.nav.setCurrentRow(1)
            page.reload_models()
            await until(lambda: page.profile is not None and len(page.columns) == 3, what="three pools")
            here, rtx, ram = page.columns
            assert rtx.pool.text() == "NVIDIA GeForce RTX 3060 · GPU memory"
            assert ram.pool.text() == "CPU · RAM" and here.pool.text() == ""
            assert rtx.bar.capacity == 12 * GIB  # the card's memory; the plan may use the 6 GiB lent
            gpu = pool_key(PlanKey(beta), 0)
            draft = page.draft
            assert draft is not None and draft.devices == [HOST, gpu, beta]
            # Layers dropped on the donor's RAM column go to its CPU, after its GPU's.
            n = draft.n_layers
            assert page.plan.drop(n - 2, n, 2) and page.plan.drop(n - 4, n - 2, 1)
            plan = str(draft.plan())
            assert plan == f"host:0-{n - 5},{gpu}:{n - 4}-{n - 3},{beta}:{n - 2}-{n - 1}"
            named = page.plan.named(plan)
            assert "beta (NVIDIA GeForce RTX 3060)" in named and f"beta:{n - 2}" in named
            # The Planner predicts the plan as edited: one round trip into beta, both its pools named.
            await until(lambda: "beta (NVIDIA" in page.basis.text(), what="the prediction of the edit")
            assert page.basis.text().count("over the network") == 1
            assert (
                rtx.layers.text() == f"layers {n - 4}–{n - 3}"
                and ram.layers.text() == f"layers {n - 2}–{n - 1}"
            )
            window.resize(1200, 800)
            window.grab().save(str(tmp_path / "planner-donor-gpu.png"))
            print(f"screenshot: {tmp_path / 'planner-donor-gpu.png'}")
        finally:
            await close_window(services, window)

    run(loop, scenario())
