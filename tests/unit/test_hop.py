"""What a hop waits for the network, from the pings a control channel saw."""

from __future__ import annotations

import random

import pytest

from hearth.mesh.channel import hop_s


def test_no_pings_no_hop_and_a_few_give_their_median() -> None:
    assert hop_s([]) is None
    assert hop_s([0.004]) == 0.004
    assert hop_s([0.003, 0.009, 0.004]) == 0.004


def test_a_steady_link_is_priced_at_its_round_trip() -> None:
    assert hop_s([0.001] * 9) == pytest.approx(0.001)


def test_a_link_that_varies_is_priced_near_its_slowest_round_trips() -> None:
    # Round trips of 4 ms give or take 2, as the benchmark's Wi-Fi: a hop waits for its slowest packet.
    draw = random.Random(7)
    trips = [0.004 + draw.uniform(-0.002, 0.002) for _ in range(9)]
    assert sorted(trips)[4] + 0.0005 < (hop_s(trips) or 0) < 0.0065


def test_a_few_pings_delayed_by_a_busy_moment_barely_move_it() -> None:
    steady = [0.0010, 0.0011, 0.0010, 0.0012, 0.0011, 0.0010]
    busy = [*steady, 0.030, 0.045, 0.060]  # three of nine pings met a busy device
    assert hop_s(busy) == pytest.approx(hop_s(steady + [0.0011] * 3), abs=0.0005)
