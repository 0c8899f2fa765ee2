"""What the planner may use on each device, read from the node's rows of devices."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.core.plan import HOST
from hearth.service.device_view import DeviceView
from hearth.service.planning import DEFAULT_BYTES_PER_S, DEFAULT_RPC_STEP_S, headroom, planning_devices

GIB = 2**30


def row(**fields: Any) -> DeviceView:
    base: dict[str, Any] = {"device_id": "ALPHA-ID", "short_id": "ALPH", "name": "alpha"}
    base.update(memory_total=16 * GIB, memory_free=8 * GIB, bytes_per_s=0.0, latency_ms=None)
    return DeviceView(**{**base, **fields})


def donor(name: str, **fields: Any) -> DeviceView:
    defaults = {"paired": True, "connected": True, "donated_bytes": 4 * GIB}
    return row(device_id=f"{name.upper()}-ID", name=name, **{**defaults, **fields})


def test_this_device_first_then_the_connected_donating_paired_ones() -> None:
    rows = [
        donor("beta", latency_ms=2.0),
        row(this_device=True, name="alpha", bytes_per_s=30e9, rpc_step_ms=1.5),
        donor("gamma", donated_bytes=0),  # paired and connected, but not donating
        donor("delta", connected=False),
        donor("epsilon", paired=False),
    ]
    devices = planning_devices(rows)
    assert [d.name for d in devices] == ["alpha", "beta"]
    host, beta = devices
    assert host.key == HOST and host.spec.hop_s == 0.0 and host.spec.bytes_per_s == 30e9
    assert host.usable == 8 * GIB - headroom(16 * GIB)
    # A remote device costs its round trip plus the RPC step this device measured.
    assert beta.spec.hop_s == pytest.approx(0.002 + 0.0015)
    assert beta.spec.bytes_per_s == DEFAULT_BYTES_PER_S  # it has not reported a probe yet
    assert beta.usable == 4 * GIB


def test_donation_is_capped_by_free_memory_less_headroom() -> None:
    devices = planning_devices(
        [row(this_device=True, name="alpha"), donor("beta", memory_free=2 * GIB, latency_ms=1.0)]
    )
    beta = devices[1]
    assert beta.usable == 2 * GIB - headroom(16 * GIB)
    # No step measured here yet: the planner still counts one.
    assert beta.spec.hop_s == pytest.approx(0.001 + DEFAULT_RPC_STEP_S)


def test_a_hop_is_priced_with_the_links_variation_once_measured() -> None:
    rows = [row(this_device=True, name="alpha", rpc_step_ms=1.0), donor("beta", latency_ms=4.0, hop_ms=5.5)]
    assert planning_devices(rows)[1].spec.hop_s == pytest.approx(0.0055 + 0.001)


def test_a_measured_step_of_nothing_is_not_taken_for_unknown() -> None:
    rows = [row(this_device=True, name="alpha", rpc_step_ms=0.0), donor("beta", latency_ms=1.0)]
    assert planning_devices(rows)[1].spec.hop_s == pytest.approx(0.001)


def test_what_the_loaded_model_holds_counts_as_free_once() -> None:
    # The loaded model's KV and compute on this device, and its layers on beta, left the devices' reports
    # of free memory; the next load frees them first, so they are not counted a second time.
    rows = [row(this_device=True, name="alpha", memory_free=6 * GIB), donor("beta", memory_free=1 * GIB)]
    held = {HOST: 2 * GIB, "BETA-ID": 3 * GIB}
    host, beta = planning_devices(rows, held)
    assert host.memory_free == 8 * GIB and host.usable == 8 * GIB - headroom(16 * GIB)
    assert beta.memory_free == 4 * GIB and beta.usable == 4 * GIB - headroom(16 * GIB)
    # Never more than the device has.
    assert planning_devices(rows, {HOST: 40 * GIB})[0].memory_free == 16 * GIB


def test_devices_named_as_gone_are_left_out() -> None:
    rows = [row(this_device=True, name="alpha"), donor("beta"), donor("gamma")]
    assert [d.name for d in planning_devices(rows, without={"BETA-ID"})] == ["alpha", "gamma"]
