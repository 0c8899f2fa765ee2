"""The speed model fitted to probes of different shapes."""

from __future__ import annotations

import pytest

from hearth.core.plan import HOST, PlanKey
from hearth.core.planner import DeviceSpec, predict
from hearth.core.speed import Speed, Timing, fit
from tests.unit.test_answers_at_once import N_CTX, PROFILE, SPLIT

_SHAPES = ((8, 64e6), (2, 64e6), (2, 16e6))  # the three probes: deep, wide, short


def _timings(truth: Speed) -> list[Timing]:
    return [Timing(layers, read, truth.seconds(layers, read)) for layers, read in _SHAPES]


def test_fit_recovers_all_three_costs() -> None:
    truth = Speed(bytes_per_s=25e9, layer_s=0.5e-3, token_s=0.2e-3)
    got = fit(_timings(truth))
    assert got.bytes_per_s == pytest.approx(truth.bytes_per_s, rel=1e-6)
    assert got.layer_s == pytest.approx(truth.layer_s, rel=1e-6)
    assert got.token_s == pytest.approx(truth.token_s, rel=1e-6)


def test_fit_drops_a_cost_that_noise_makes_negative() -> None:
    timings = _timings(Speed(bytes_per_s=20e9, layer_s=1e-3))
    # The short probe measured a little fast: token_s alone would come out below zero.
    timings[2] = Timing(timings[2].layers, timings[2].bytes, timings[2].seconds * 0.97)
    got = fit(timings)
    assert got.token_s == 0.0
    assert got.layer_s > 0.0
    assert got.bytes_per_s > 0.0


def test_fit_of_one_probe_is_its_bytes_per_second() -> None:
    got = fit([Timing(8, 64e6, 0.004)])
    assert got == Speed(bytes_per_s=16e9)


def test_fit_needs_a_timing() -> None:
    with pytest.raises(ValueError, match="no probe timings"):
        fit([])


def test_a_per_layer_cost_prices_deep_models_above_their_bytes() -> None:
    speed = Speed(bytes_per_s=20e9, layer_s=1e-3)
    assert speed.seconds(32, 20e6) == pytest.approx(0.032 + 0.001)
    assert speed.seconds(32, 20e6) > Speed(20e9).seconds(32, 20e6)


def test_the_planner_charges_each_layer_and_token_its_fixed_cost() -> None:
    plain_host = DeviceSpec(HOST, 1 << 40, 20e9)
    plain_beta = DeviceSpec(PlanKey("beta"), 1 << 40, 20e9, 0.001)
    base = predict(PROFILE, plain_host, [plain_beta], SPLIT, N_CTX).seconds_per_token
    host = DeviceSpec(HOST, 1 << 40, 20e9, layer_s=0.5e-3, token_s=0.2e-3)
    beta = DeviceSpec(PlanKey("beta"), 1 << 40, 20e9, 0.001, layer_s=1e-3)
    priced = predict(PROFILE, host, [beta], SPLIT, N_CTX).seconds_per_token
    assert priced - base == pytest.approx(4 * 0.5e-3 + 0.2e-3 + 4 * 1e-3, rel=1e-6)
