"""The workers a plan reserves on other devices, as serving sees them: a pool it can open, watch and close.

``mesh.pool`` speaks of members and the node; serving needs only the endpoints llama.cpp connects to,
which devices failed and why, and a way to let them go. The narrow protocols here are what serving
depends on, so that its life cycle can be driven without a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hearth.core.plan import Plan
from hearth.core.profile import ModelProfile
from hearth.mesh.pool import Node, PoolSession, open_pool


@dataclass(frozen=True)
class Loss:
    """A device of a pool that failed."""

    device_id: str
    name: str
    reason: str  # named for people: "<device>: what happened"


class Pool(Protocol):
    @property
    def endpoints(self) -> list[str]: ...

    @property
    def devices(self) -> list[str]:
        """The names of the devices reserved, in pipeline order."""
        ...

    def losses(self) -> list[Loss]: ...

    def cut_unreachable(self) -> list[str]:
        """End the tunnels to devices whose control channel is down; their names."""
        ...

    async def close(self) -> None: ...


class Pools(Protocol):
    async def open(self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16") -> Pool: ...


@dataclass
class NodePool:
    session: PoolSession
    node: Node

    @property
    def endpoints(self) -> list[str]:
        return self.session.endpoints

    @property
    def devices(self) -> list[str]:
        return [member.name for member in self.session.members]

    def losses(self) -> list[Loss]:
        return [Loss(member.device_id, member.name, why) for member, why in self.session.failed(self.node)]

    def cut_unreachable(self) -> list[str]:
        return [member.name for member in self.session.cut_unreachable(self.node)]

    async def close(self) -> None:
        await self.session.close(self.node)


@dataclass
class NodePools:
    node: Node

    async def open(self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16") -> NodePool:
        return NodePool(await open_pool(self.node, profile, plan, n_ctx, cache_type), self.node)
