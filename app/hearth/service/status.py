"""This node's own state, as its callers ask for it: who it is, what it lends out, where its API listens."""

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
    # While donating: why workers here are reachable on the machine's loopback; None: isolated or unknown.
    workers_exposed: str | None = None


class DonationStatus(msgspec.Struct, frozen=True):
    enabled: bool
    donated_bytes: int


class ApiStatus(msgspec.Struct, frozen=True):
    """Where the HTTP API for other apps listens (``url``), or why it does not (``error``)."""

    url: str = ""
    port: int = 0
    error: str = ""
