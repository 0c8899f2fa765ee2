"""This device and the others: who is in sight, pairing, forgetting, and this node's own status."""

from __future__ import annotations

from hearth.engine import rpc
from hearth.mesh.discovery import Neighbour
from hearth.mesh.pairing_client import PairingAttempt
from hearth.mesh.pairing_endpoint import CodeShown
from hearth.mesh.trust import TrustedDevice
from hearth.service.device_view import DeviceView
from hearth.service.errors import ServiceError
from hearth.service.node import Node
from hearth.service.status import NodeStatus, WorkerStatus


class Devices:
    def __init__(self, node: Node) -> None:
        self._node = node

    def listed(self) -> list[DeviceView]:
        """Every device in sight or paired, this one first."""
        return self._node.devices()

    def pending_codes(self) -> list[CodeShown]:
        """Pairing codes to show: devices asking to pair with this one."""
        return list(self._node.pending_codes)

    async def pair(self, target: str) -> PairingAttempt:
        return await self._node.request_pairing(target)

    async def finish_pairing(self, attempt: PairingAttempt, code: str) -> TrustedDevice:
        await attempt.finish(code)
        return self._node.accept_attempt(attempt)

    async def add_address(self, address: str) -> Neighbour:
        """Add a device by ``host:port``; it stays listed and is checked again every few seconds."""
        return await self._node.add_address(address)

    def forget(self, target: str) -> TrustedDevice:
        """Stop trusting a device (named by name or ID prefix) at once."""
        device = self._node.forget(target)
        if device is None:
            raise ServiceError(f"no paired device called '{target}'")
        return device

    def find_paired(self, target: str) -> TrustedDevice | None:
        """The paired device named ``target`` (name or ID prefix), if any."""
        return self._node.trust.find(target)

    def status(self) -> NodeStatus:
        node, ident = self._node, self._node.identity
        workers = [
            WorkerStatus(r.host_id, r.threads, r.rpc_connections, r.worker.port, r.worker.exposed)
            for r in node.workers.reservations.values()
        ]
        return NodeStatus(
            ident.device_id,
            ident.short_id,
            ident.name,
            node.port,
            ident.key_warning,
            node.donation.enabled,
            node.donated_bytes,
            node.workers.tunnel_port,
            rpc.rdma_compiled(),
            workers,
            node.workers_exposed,
        )


__all__ = ["CodeShown", "Devices", "Neighbour", "PairingAttempt", "TrustedDevice"]
