"""Compute devices as a household's hardware reports them. This machine has no GPU, so a device that
has one is described: the edge of the outside world (what the hardware says), never the planning,
memory accounting or drawing that follows from it."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

import msgspec

from hearth.core.control import ComputeDevice
from hearth.mesh import telemetry
from hearth.store.settings import Donation

GIB = 2**30
RTX = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
RYZEN = ComputeDevice("CPU", "CPU", "AMD Ryzen 7 5800X", 32 * GIB, 20 * GIB)


@contextlib.contextmanager
def donors_report_an_rtx(names: Collection[str] = (), lent: int = 6 * GIB) -> Iterator[None]:
    """While the block runs, paired donating devices (those ``names``, or every one) report what a PC
    with an RTX card reports of its compute devices, lending ``lent`` of its VRAM beside the RAM it
    donates; the devices themselves are real nodes on a machine without a GPU."""
    from hearth.service import device_view, node

    real = device_view.other_devices

    def rows(*args: object) -> list[device_view.DeviceView]:
        out = []
        for row in real(*args):  # type: ignore[arg-type]
            if row.paired and row.donated_bytes and (not names or row.name in names):
                compute = [RTX, RYZEN]
                served = telemetry.served_devices(compute, Donation(max_vram=lent), row.donated_bytes)
                row = msgspec.structs.replace(
                    row, compute=compute, served=served, memory_total=32 * GIB, accelerator=RTX.description
                )
            out.append(row)
        return out

    # The node reads the rows through its own import of the function.
    setattr(node, "other_devices", rows)  # noqa: B010
    try:
        yield
    finally:
        setattr(node, "other_devices", real)  # noqa: B010
