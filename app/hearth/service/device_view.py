"""What is known of each device, in one typed row: this device first, then every paired or visible one.

The window's cards, `hearth devices` and the planner all read these rows; the local API sends them as
JSON with the same field names.
"""

from __future__ import annotations

import platform
import time

import msgspec

from hearth.core.control import ComputeDevice, Offer
from hearth.core.control import Telemetry as Sample
from hearth.core.device_id import DeviceId, short_id
from hearth.core.routing import MOST_LOADABLE, sane
from hearth.core.speed import Speed
from hearth.mesh.discovery import Neighbour
from hearth.mesh.identity import Identity
from hearth.mesh.peers import Peers
from hearth.mesh.trust import TrustStore


class DeviceView(msgspec.Struct, frozen=True, kw_only=True):
    device_id: DeviceId
    short_id: str
    name: str
    this_device: bool = False
    paired: bool = False
    online: bool = False  # seen on the network or connected
    connected: bool = False  # a control channel is open (this device: always)
    address: str = ""
    os: str = ""
    memory_total: int = 0
    memory_free: int | None = None  # None until the device has reported telemetry
    donated_bytes: int | None = None
    accelerator: str = ""
    compute: list[ComputeDevice] = []  # its accelerators and CPU with their memory, as ggml reports them
    served: list[ComputeDevice] = []  # while it donates: what its workers serve, capped to what it lends
    answers: Offer | None = None  # the model it answers other devices' apps with, while it allows it
    loadable: list[str] = []  # with nothing loaded: the models it would load for other devices' apps
    latency_ms: float | None = None
    hop_ms: float | None = None  # what the network adds to a pooled token's hop there (``ControlChannel``)
    bytes_per_s: float = 0.0  # decode speed from the device's probe; 0 when not reported
    layer_ms: float = 0.0  # what each layer costs there beyond its weights (``core.speed``)
    token_ms: float = 0.0  # this device only: what each token costs beyond its layers
    rpc_step_ms: float | None = None  # this device only: what a remote device adds per token
    telemetry_count: int = 0
    telemetry_age_s: float | None = None
    error: str = ""  # why a paired device is not connected


def this_device(
    identity: Identity, address: str, sample: Sample, speed: Speed | None, rpc_step_s: float | None
) -> DeviceView:
    return DeviceView(
        device_id=identity.device_id,
        short_id=identity.short_id,
        name=identity.name,
        this_device=True,
        online=True,
        connected=True,
        address=address,
        os=platform.system(),
        memory_total=sample.memory_total,
        memory_free=sample.memory_free,
        donated_bytes=sample.donated_bytes,
        accelerator=sample.accelerator,
        compute=sample.compute,
        served=sample.served,
        answers=sample.answers,
        loadable=[o.model for o in sample.loadable if sane(o)],
        latency_ms=0.0,
        bytes_per_s=speed.bytes_per_s if speed else 0.0,
        layer_ms=speed.layer_s * 1000 if speed else 0.0,
        token_ms=speed.token_s * 1000 if speed else 0.0,
        rpc_step_ms=None if rpc_step_s is None else rpc_step_s * 1000,
    )


def other_devices(trust: TrustStore, peers: Peers, seen: dict[str, Neighbour]) -> list[DeviceView]:
    """Every paired device and every one in sight, paired first, each once."""
    # A neighbour's key is the ID it announces; a connection is what proves it.
    ids = list(dict.fromkeys([*(d.device_id for d in trust.devices()), *map(DeviceId, seen)]))
    now = time.time()
    rows = []
    for dev_id in ids:
        paired = trust.get(dev_id)
        n = seen.get(dev_id)
        chan = peers.channel(dev_id)
        t = chan.telemetry if chan else None
        rows.append(
            DeviceView(
                device_id=dev_id,
                short_id=short_id(dev_id),
                name=(chan.peer.name if chan else None)
                or (paired.name if paired else None)
                or (n.name if n else "?"),
                paired=paired is not None,
                online=chan is not None or n is not None,
                connected=chan is not None,
                address=(n.address if n else "") or (paired.address if paired else ""),
                os=(n.os if n else "") or (t.os if t else ""),
                memory_total=t.memory_total if t else (n.memory_total if n else 0),
                memory_free=t.memory_free if t else None,
                donated_bytes=t.donated_bytes if t else None,
                accelerator=t.accelerator if t else (n.accelerator if n else ""),
                compute=t.compute if t else [],
                served=t.served if t else [],
                answers=t.answers if t else None,
                loadable=[o.model for o in t.loadable[:MOST_LOADABLE] if sane(o)] if t else [],
                latency_ms=chan.latency_ms if chan else None,
                hop_ms=chan.hop_ms if chan else None,
                bytes_per_s=t.bytes_per_s if t else 0.0,
                layer_ms=t.layer_s * 1000 if t else 0.0,
                telemetry_count=chan.telemetry_count if chan else 0,
                telemetry_age_s=now - t.time if t else None,
                error=peers.last_error.get(dev_id, "") if paired and not chan else "",
            )
        )
    return rows
