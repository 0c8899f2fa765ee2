"""This node's own state, as `hearth node`'s callers ask for it: who it is and what it lends out."""

from __future__ import annotations

import msgspec


class WorkerStatus(msgspec.Struct, frozen=True):
    """One RPC worker this device runs for a paired host."""

    host_id: str
    threads: int
    rpc_connections: int
    port: int
    exposed: str | None  # why it is reachable on the machine's loopback; None inside its own namespace


class NodeStatus(msgspec.Struct, frozen=True):
    device_id: str
    short_id: str
    name: str
    port: int
    key_warning: str | None
    donating: bool
    donated_bytes: int
    tunnel_port: int | None  # where paired hosts reach this device's workers; None while not donating
    rdma_compiled: bool  # this llama.cpp could use RDMA (Hearth never lets a worker do so)
    workers: list[WorkerStatus]


class DonationStatus(msgspec.Struct, frozen=True):
    enabled: bool
    donated_bytes: int
