"""A plan's split over the devices llama.cpp sees when a donor's server serves its GPU and its CPU."""

from __future__ import annotations

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
