"""Planning over pools: each device's accelerators and its CPU, the exact optimum against enumeration."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core.plan import HOST, PlanError, PlanKey, device_of, parse_plan, pool_key, split_key, validate
from hearth.core.plan_edit import PlanDraft
from hearth.core.planner import DeviceSpec, Pool, auto_plan, evaluate
from hearth.engine import messages as m
from hearth.service.planning import choose_sized
from tests.unit.planner_oracle import brute_force_pools
from tests.unit.test_planner import profile

MIB = 2**20
GIB = 2**30


def test_pool_keys_name_a_device_and_its_accelerator() -> None:
    key = pool_key(PlanKey("pc"), 1)
    assert key == "pc/gpu1" and split_key(key) == ("pc", 1) and device_of(key) == "pc"
    assert split_key(HOST) == (HOST, None) and split_key(PlanKey("a/gpux")) == ("a/gpux", None)


def test_a_donors_pools_come_together_its_gpus_first_one_server_for_them() -> None:
    plan = parse_plan("host:0-1,pc/gpu0:2-4,pc:5,mac:6-7", 8)
    assert plan.remote_devices == ("pc", "mac")
    assert plan.rpc_targets() == [(0, 0), (0, -1), (1, -1)]
    assert m.LoadModel.for_plan(profile([MIB] * 8), plan, 512, rpc_servers=["a:1", "b:2"]).rpc_targets == [
        (0, 0),
        (0, -1),
        (1, -1),
    ]
    with pytest.raises(PlanError, match="comes after pc's CPU"):
        parse_plan("host:0-1,pc:2-4,pc/gpu0:5-7", 8)
    with pytest.raises(PlanError, match="comes after pc's GPU 1"):
        parse_plan("host:0-1,pc/gpu1:2-4,pc/gpu0:5-7", 8)
    with pytest.raises(PlanError, match="split by another device's"):
        parse_plan("host:0-1,pc/gpu0:2-4,mac:5,pc:6-7", 8)
    # The strip's draft keeps them so, whatever order the devices came in.
    draft = PlanDraft.from_plan(
        parse_plan("host:0-7", 8), [PlanKey("pc"), PlanKey("mac"), PlanKey("pc/gpu0")]
    )
    assert draft.devices == [HOST, "pc/gpu0", "pc", "mac"]
    draft.move_layers(6, 8, 2)
    draft.move_layers(4, 6, 1)
    assert str(draft.plan()) == "host:0-3,pc/gpu0:4-5,pc:6-7"


def test_a_host_with_a_roomy_gpu_puts_every_layer_and_the_head_there() -> None:
    p = profile([100 * MIB] * 8)
    host = DeviceSpec(HOST, 4 * GIB, 20e9, accelerators=(Pool("GPU", 4 * GIB, 300e9),))
    pred = auto_plan(p, host, [], n_ctx=512)
    assert str(pred.plan) == "host/gpu0:0-7"
    assert pred.plan.llama_params() == (9, [9.0])  # every layer and the output layer offloaded
    assert pred.plan.host_accelerators and not pred.plan.remote
    gpu = next(pl for pl in pred.placements if pl.device == pool_key(HOST, 0))
    cpu = next(pl for pl in pred.placements if pl.device == HOST)
    assert gpu.memory.weights >= 8 * 100 * MIB + 4 * MIB  # the layers and the head
    assert cpu.memory.weights < 100 * MIB  # the token embedding only


def test_a_small_gpu_takes_what_fits_and_the_cpu_the_rest() -> None:
    p = profile([100 * MIB] * 8)
    host = DeviceSpec(HOST, 4 * GIB, 20e9, accelerators=(Pool("GPU", 450 * MIB, 300e9),))
    pred = auto_plan(p, host, [], n_ctx=512)
    cpu, gpu = pred.plan.assignments
    assert cpu.device == HOST and gpu.device == pool_key(HOST, 0) and 0 < cpu.count < 8
    for placement in pred.placements:
        cap = 450 * MIB if placement.device == gpu.device else 4 * GIB
        assert placement.memory.total <= cap


def test_a_donor_that_donates_more_ram_than_its_vram_holds_gets_gpu_layers_within_its_vram() -> None:
    p = profile([400 * MIB] * 10)
    pc = DeviceSpec(PlanKey("pc"), 16 * GIB, 50e9, hop_s=0.001, accelerators=(Pool("RTX", 2 * GIB, 360e9),))
    host = DeviceSpec(HOST, 200 * MIB, 10e9)
    pred = auto_plan(p, host, [pc], n_ctx=512)
    by_key = {pl.device: pl for pl in pred.placements}
    gpu = by_key[pool_key(PlanKey("pc"), 0)]
    assert 0 < gpu.end - gpu.start < 10 and gpu.memory.total <= 2 * GIB
    assert by_key[PlanKey("pc")].end == 10  # its RAM takes what the VRAM cannot: both are used
    assert (
        pred.seconds_per_token
        < auto_plan(p, host, [DeviceSpec(PlanKey("pc"), 16 * GIB, 50e9, 0.001)], 512).seconds_per_token
    )
    # One hop into the donor, none between its two pools.
    assert pred.seconds_per_token == pytest.approx(evaluate(p, host, [pc], pred.plan, 512).seconds_per_token)


def test_a_plan_naming_an_accelerator_a_device_lacks_is_a_clear_error() -> None:
    p = profile([100 * MIB] * 4)
    host = DeviceSpec(HOST, 4 * GIB, 20e9)
    with pytest.raises(PlanError, match="host has no accelerator number 0"):
        evaluate(p, host, [], parse_plan("host:0-1,host/gpu0:2-3", 4), 512)


def test_a_manual_plan_over_a_gpu_names_the_pool() -> None:
    p = profile([100 * MIB] * 4)
    host = DeviceSpec(HOST, 4 * GIB, 20e9, accelerators=(Pool("GPU", 150 * MIB, 300e9),))
    with pytest.raises(PlanError, match=r"host/gpu0 would need \d+ MiB but has 150 MiB"):
        evaluate(p, host, [], parse_plan("host:0,host/gpu0:1-3", 4), 512)


_pool = st.builds(
    Pool,
    name=st.just("GPU"),
    memory_bytes=st.integers(0, 900).map(lambda m: m * MIB),
    bytes_per_s=st.floats(50e9, 400e9),
)


@st.composite
def _device(draw: st.DrawFn, name: str, gpus: int = 1) -> DeviceSpec:
    """A device of the strategy's drawing; ``gpus``: the most another device has (the host: 2)."""
    return DeviceSpec(
        PlanKey(name),
        draw(st.integers(50, 1500)) * MIB,
        draw(st.floats(1e9, 100e9)),
        0.0 if name == HOST else draw(st.floats(0.0, 0.01)),
        accelerators=tuple(draw(st.lists(_pool, max_size=2 if name == HOST else gpus))),
    )


@settings(max_examples=150, deadline=None)
@given(
    layers=st.lists(st.integers(20, 200).map(lambda m: m * MIB), min_size=1, max_size=5),
    host=_device(HOST),
    remotes=st.lists(st.integers(), max_size=2).flatmap(
        lambda r: st.tuples(*(_device(f"d{i}") for i in range(len(r))))
    ),
    n_ctx=st.sampled_from([256, 2048]),
)
def test_the_auto_plan_over_pools_is_the_brute_force_optimum(
    layers: list[int], host: DeviceSpec, remotes: tuple[DeviceSpec, ...], n_ctx: int
) -> None:
    p = profile(layers)
    best = brute_force_pools(p, host, list(remotes), n_ctx)
    try:
        pred = auto_plan(p, host, list(remotes), n_ctx)
    except PlanError:
        assert best == float("inf")
        return
    assert pred.seconds_per_token == pytest.approx(best, rel=1e-9)
    again = evaluate(p, host, list(remotes), pred.plan, n_ctx)
    assert again.seconds_per_token == pytest.approx(best, rel=1e-9)


class _GpuSizedBigger:
    """llama.cpp's dry run finding a GPU's compute buffer 100 MiB bigger than the estimate."""

    def __init__(self, key: PlanKey) -> None:
        self.key = key
        self.asked: list[str] = []

    def known(self, *_: object) -> None:
        return None

    async def compute(self, profile: object, plan: object, *_: object) -> dict[str, int]:
        self.asked.append(str(plan))
        return {self.key: 100 * MIB + 4 * MIB}


def test_a_gpu_that_llama_cpp_sizes_bigger_than_the_estimate_takes_fewer_layers() -> None:
    p = profile([50 * MIB] * 12)
    gpu = pool_key(PlanKey("pc"), 0)
    pc = DeviceSpec(PlanKey("pc"), 8 * GIB, 20e9, 0.001, accelerators=(Pool("RTX", 400 * MIB, 300e9),))
    host = DeviceSpec(HOST, 8 * GIB, 10e9)
    check = _GpuSizedBigger(gpu)
    first = auto_plan(p, host, [pc], 512)
    chosen = asyncio.run(choose_sized(p, host, [pc], 512, check))
    on_gpu = {a.device: a.count for a in chosen.plan.assignments}.get(gpu, 0)
    assert chosen.sized_by_llama and not chosen.over, chosen.over
    assert (
        0 < on_gpu < {a.device: a.count for a in first.plan.assignments}[gpu]
    )  # moved off the GPU, not refused
    assert next(pl for pl in chosen.placements if pl.device == gpu).memory.total <= 400 * MIB


@settings(max_examples=60, deadline=None)
@given(
    layers=st.lists(st.integers(20, 200).map(lambda m: m * MIB), min_size=1, max_size=4),
    host=_device(HOST),
    donor=_device("pc", gpus=2),
    n_ctx=st.sampled_from([256, 2048]),
)
def test_a_donor_with_two_gpus_and_its_ram_is_planned_at_the_brute_force_optimum(
    layers: list[int], host: DeviceSpec, donor: DeviceSpec, n_ctx: int
) -> None:
    p = profile(layers)
    best = brute_force_pools(p, host, [donor], n_ctx)
    try:
        pred = auto_plan(p, host, [donor], n_ctx)
    except PlanError:
        assert best == float("inf")
        return
    assert pred.seconds_per_token == pytest.approx(best, rel=1e-9)
    validate(pred.plan)  # its pools in the order its worker serves them
