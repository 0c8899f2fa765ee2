from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core.plan import HOST as HOST_NAME
from hearth.core.plan import PlanError, PlanKey, parse_plan
from hearth.core.planner import DeviceSpec, auto_plan, evaluate
from hearth.core.profile import ModelProfile, shaped_profile
from tests.unit.planner_oracle import brute_force

MIB = 2**20


def profile(layer_bytes: list[int], head: int = 4 * MIB) -> ModelProfile:
    return shaped_profile(
        layer_bytes,
        embedding_length=256,
        feed_forward_length=512,
        head_count=4,
        head_count_kv=2,
        vocab_size=32000,
        head_bytes=head,
    )


def spec(name: str, memory_bytes: int, bytes_per_s: float, hop_s: float = 0.0) -> DeviceSpec:
    return DeviceSpec(PlanKey(name), memory_bytes, bytes_per_s, hop_s)


HOST = spec("host", 2048 * MIB, 20e9)


def test_a_fast_roomy_device_takes_the_layers_and_a_slow_one_gets_nothing() -> None:
    p = profile([100 * MIB] * 8)
    fast = spec("desktop", 4096 * MIB, 80e9, hop_s=0.0005)
    slow = spec("laptop", 4096 * MIB, 2e9, hop_s=0.002)
    pred = auto_plan(p, spec("host", 200 * MIB, 10e9), [slow, fast], n_ctx=512)
    assert str(pred.plan) in ("host:0,desktop:1-7", "desktop:0-7")
    laptop = PlanKey("laptop")
    assert laptop in pred.left_out and "not worth it" in pred.left_out[laptop]
    assert pred.tokens_per_s > 0


def test_memory_caps_force_a_split_and_are_respected() -> None:
    p = profile([100 * MIB] * 10)
    a = spec("a", 450 * MIB, 30e9, hop_s=0.001)
    b = spec("b", 450 * MIB, 30e9, hop_s=0.001)
    pred = auto_plan(p, spec("host", 300 * MIB, 30e9), [a, b], n_ctx=256)
    for placement in pred.placements:
        cap = {"host": 300 * MIB, "a": 450 * MIB, "b": 450 * MIB}[str(placement.device)]
        assert placement.memory.total <= cap
    assert sum(pl.end - pl.start for pl in pred.placements) == 10


def test_a_manual_plan_over_memory_names_the_device_and_the_overflow() -> None:
    p = profile([100 * MIB] * 8)
    small = spec("laptop", 150 * MIB, 10e9, hop_s=0.001)
    with pytest.raises(PlanError, match=r"laptop would need \d+ MiB but has 150 MiB: over by \d+ MiB"):
        evaluate(p, HOST, [small], parse_plan("host:0-3,laptop:4-7", 8), n_ctx=512)
    with pytest.raises(PlanError, match="not among the devices"):
        evaluate(p, HOST, [small], parse_plan("host:0-3,desktop:4-7", 8), n_ctx=512)


def test_nothing_fits_is_a_clear_error() -> None:
    p = profile([500 * MIB] * 8)
    with pytest.raises(PlanError, match="does not fit"):
        auto_plan(p, spec("host", 100 * MIB, 1e9), [spec("a", 100 * MIB, 1e9, 0.001)], n_ctx=512)


def test_evaluate_agrees_with_the_auto_plan_cost() -> None:
    p = profile([80 * MIB, 120 * MIB, 100 * MIB, 90 * MIB, 110 * MIB, 100 * MIB])
    remotes = [spec("a", 400 * MIB, 25e9, 0.001), spec("b", 300 * MIB, 40e9, 0.0005)]
    pred = auto_plan(p, spec("host", 250 * MIB, 15e9), remotes, n_ctx=512)
    again = evaluate(p, spec("host", 250 * MIB, 15e9), remotes, pred.plan, n_ctx=512)
    assert again.seconds_per_token == pytest.approx(pred.seconds_per_token)


_device = st.builds(
    DeviceSpec,
    name=st.just(PlanKey("")),
    memory_bytes=st.integers(50, 1500).map(lambda m: m * MIB),
    bytes_per_s=st.floats(1e9, 100e9),
    hop_s=st.floats(0.0, 0.01),
)


@settings(max_examples=250, deadline=None)
@given(
    layers=st.lists(st.integers(20, 200).map(lambda m: m * MIB), min_size=1, max_size=7),
    host=_device,
    remotes=st.lists(_device, max_size=3),
    n_ctx=st.sampled_from([256, 2048]),
)
def test_the_auto_plan_is_the_brute_force_optimum(layers, host, remotes, n_ctx) -> None:
    p = profile(layers)
    remotes = [spec(f"d{i}", r.memory_bytes, r.bytes_per_s, r.hop_s) for i, r in enumerate(remotes)]
    host = spec("host", host.memory_bytes, host.bytes_per_s)
    best = brute_force(p, host, remotes, n_ctx)
    try:
        pred = auto_plan(p, host, remotes, n_ctx)
    except PlanError:
        assert best == float("inf")
        return
    assert pred.seconds_per_token == pytest.approx(best, rel=1e-9)
    assert evaluate(p, host, remotes, pred.plan, n_ctx).seconds_per_token == pytest.approx(best, rel=1e-9)


def test_the_fast_memory_check_agrees_with_the_memory_model() -> None:
    from hearth.core.memory import device_memory
    from hearth.core.planner import CostModel

    p = profile([80 * MIB, 120 * MIB, 100 * MIB, 90 * MIB, 110 * MIB])
    for n_ctx in (256, 4096):
        model = CostModel(p, n_ctx, "f16")
        for cap in (150 * MIB, 400 * MIB, 900 * MIB):
            dev = spec("d", cap, 1e9)
            for start in range(6):
                for end in range(start, 6):
                    for host in (True, False):
                        expected = device_memory(p, start, end, n_ctx, host=host).total <= cap
                        assert model.fits(dev, start, end, host) == expected, (n_ctx, cap, start, end, host)


def test_a_plan_may_name_this_device_by_its_own_name_or_id() -> None:
    def is_me(text: str) -> bool:
        return text in ("alpha", "3f2a")

    for me in ("host", "alpha", "3f2a"):
        plan = parse_plan(f"{me}:0-3,beta:4-7", 8, is_me)
        assert plan.assignments[0].device == HOST_NAME and plan.remote[0].device == "beta"
    with pytest.raises(PlanError, match="host's layers must come first"):
        parse_plan("beta:0-3,alpha:4-7", 8, is_me)


def test_a_mixture_of_experts_costs_a_token_only_its_experts_reads() -> None:
    import dataclasses

    dense = shaped_profile(
        [4_000_000] * 8,
        embedding_length=512,
        feed_forward_length=1024,
        head_count=8,
        head_count_kv=8,
        vocab_size=1000,
        head_bytes=0,
    )
    # Three quarters of each layer are experts, and a token goes through one expert of four.
    experts = dataclasses.replace(dense, expert_count=4, expert_used_count=1, expert_bytes=(3_000_000,) * 8)
    host = DeviceSpec(HOST_NAME, 1 << 40, 1e9)
    slow = auto_plan(dense, host, [], 512)
    fast = auto_plan(experts, host, [], 512)
    assert slow.seconds_per_token == pytest.approx(32e-3)
    assert fast.seconds_per_token == pytest.approx((8 * (1_000_000 + 750_000)) / 1e9)
