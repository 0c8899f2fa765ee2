"""A plan's split over the devices llama.cpp sees when a donor's server serves its GPU and its CPU."""

from __future__ import annotations

import pytest

from hearth.engine.errors import BadRequest
from hearth.engine.llama_runtime import spread_split


def test_each_servers_layers_go_to_its_first_device_and_the_rest_get_none() -> None:
    # This machine's GPU, a donor serving [GPU, CPU], a donor serving its CPU.
    assert spread_split([4.0, 4.0, 5.0], 1, [2, 1]) == [4.0, 4.0, 0.0, 5.0]
    assert spread_split([4.0, 5.0], 0, [1, 3]) == [4.0, 5.0, 0.0, 0.0]


def test_servers_of_one_device_each_leave_the_split_as_planned() -> None:
    assert spread_split([4.0, 5.0], 0, [1, 1]) == [4.0, 5.0]
    assert spread_split(None, 0, [2]) is None
    # A split given per device already (a test placing layers on a donor's GPU and its CPU).
    assert spread_split([4.0, 5.0], 0, [2]) == [4.0, 5.0]


def test_a_plans_ranges_go_to_the_server_devices_it_names() -> None:
    # A donor serving [GPU, CPU] with a range on each, then a donor serving its CPU.
    assert spread_split([3.0, 2.0, 4.0], 0, [2, 1], [(0, 0), (0, -1), (1, -1)]) == [3.0, 2.0, 4.0]
    # Its CPU alone, though it serves a GPU; this machine's GPU first.
    assert spread_split([1.0, 4.0], 1, [2], [(0, -1)]) == [1.0, 0.0, 4.0]
    # Its second GPU, then its CPU: the first GPU gets none.
    assert spread_split([2.0, 3.0], 0, [3], [(0, 1), (0, -1)]) == [0.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("per_server", "targets", "why"),
    [
        ([1], [(0, 0)], "serves 0 GPUs, not a GPU number 0"),  # a CPU-only worker has no GPU 0
        ([2], [(1, -1)], "RPC server 2, of 1 connected"),
        ([2], [(0, -1), (0, 0)], "out of their servers' order"),  # its CPU's range before its GPU's
    ],
)
def test_targets_a_server_cannot_take_are_refused(
    per_server: list[int], targets: list[tuple[int, int]], why: str
) -> None:
    with pytest.raises(BadRequest, match=why):
        spread_split([1.0] * len(targets), 0, per_server, targets)
