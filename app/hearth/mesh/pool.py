"""The host's side of pooling: reserve workers for a plan and open a tunnel to each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hearth.core import control
from hearth.core.device_id import DeviceId
from hearth.core.errors import HearthError
from hearth.core.memory import device_memory
from hearth.core.plan import Assignment, Plan, PlanError, PlanKey, device_of, split_key
from hearth.core.profile import ModelProfile
from hearth.mesh import tls
from hearth.mesh.identity import Identity
from hearth.mesh.peers import Peers
from hearth.mesh.trust import TrustStore
from hearth.mesh.tunnel import TunnelClient

log = logging.getLogger(__name__)
RESERVE_TIMEOUT_S = 90.0


class Node(Protocol):
    """What forming a pool needs from the node it runs in."""

    identity: Identity
    trust: TrustStore
    peers: Peers
    lost_reservations: dict[str, str]  # reservation -> why its device gave it up

    @property
    def bind_host(self) -> str | None: ...

    def hello(self) -> control.Hello: ...

    async def request(
        self, dev_id: str, make: Callable[[int], control.ControlMessage], timeout: float
    ) -> control.ControlMessage: ...


class PoolError(HearthError):
    """The pool could not be formed; the message names the device and the reason."""


@dataclass
class Member:
    device_id: str
    name: str
    assignments: tuple[Assignment, ...]  # its ranges: on its GPUs in their order, then on its CPU
    reservation: str
    tunnel: TunnelClient


@dataclass
class PoolSession:
    plan: Plan
    members: list[Member] = field(default_factory=list)

    @property
    def endpoints(self) -> list[str]:
        return [m.tunnel.endpoint for m in self.members]

    def failures(self, node: Node) -> list[str]:
        """What went wrong with each member that failed, named for people."""
        return [reason for _, reason in self.failed(node)]

    def failed(self, node: Node) -> list[tuple[Member, str]]:
        """The members that failed, each with what went wrong."""
        out = []
        for m in self.members:
            lost = node.lost_reservations.get(m.reservation)
            if lost:
                out.append((m, f"{m.name}: {lost}"))
            elif node.peers.channel(m.device_id) is None:
                out.append((m, f"{m.name}: the device is unreachable (its control channel is down)"))
            elif m.tunnel.failures:
                out.append((m, m.tunnel.failures[-1]))
        return out

    def cut_unreachable(self, node: Node) -> list[Member]:
        """End the tunnel connections of every member whose control channel is down, returning them.

        A device whose machine froze answers neither its channel nor its tunnel, and llama.cpp would
        wait on the tunnel until TCP gave up, which may be never. Once the channel is down the device
        has let the reservation go anyway (a donor releases a host's workers when its channel closes),
        so nothing that passes the tunnel can be answered any more."""
        cut = []
        for m in self.members:
            if node.peers.channel(m.device_id) is None and m.tunnel.cut(
                f"{m.name}: the device is unreachable (its control channel is down)"
            ):
                cut.append(m)
        return cut

    async def close(self, node: Node) -> None:
        for m in self.members:
            m.tunnel.close()
            chan = node.peers.channel(m.device_id)
            if chan is not None:
                await chan.send(control.Release(m.reservation))
        self.members.clear()


def resolve_devices(node: Node, plan: Plan) -> dict[PlanKey, DeviceId]:
    """Plan device names (names or ID prefixes) -> device IDs of paired, connected devices."""
    out = {}
    for key in plan.remote_devices:
        device = node.trust.find(key)
        if device is None:
            raise PoolError(f"'{key}' is not a paired device")
        if node.peers.channel(device.device_id) is None:
            raise PoolError(f"{device.name} is paired but not connected")
        out[key] = device.device_id
    return out


def needs(
    profile: ModelProfile, ranges: tuple[Assignment, ...], n_ctx: int, cache_type: str
) -> tuple[int, dict[int, int]]:
    """What a device's ranges of a plan need: on its CPU, and on each of its accelerators by index."""
    cpu, gpus = 0, {}
    for a in ranges:
        need = device_memory(profile, a.start, a.end, n_ctx, cache_type).total
        index = split_key(a.device)[1]
        if index is None:
            cpu += need
        else:
            gpus[index] = need
    return cpu, gpus


async def open_pool(
    node: Node, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16", threads: int = 0
) -> PoolSession:
    """Reserve a worker on every remote device of ``plan`` and open the tunnels, in pipeline order: one
    each, however many of its pools the plan uses."""
    if plan.n_layers != profile.block_count:
        raise PlanError(f"the plan is for {plan.n_layers} layers, the model has {profile.block_count}")
    ids = resolve_devices(node, plan)
    session = PoolSession(plan)
    build = node.hello().llama_build
    try:
        for key in plan.remote_devices:
            dev_id = ids[key]
            device = node.trust.get(dev_id)
            chan = node.peers.channel(dev_id)
            assert device is not None and chan is not None
            ranges = tuple(a for a in plan.remote if device_of(a.device) == key)
            need, on_gpus = needs(profile, ranges, n_ctx, cache_type)

            def reserve(
                rid: int, need: int = need, on_gpus: dict[int, int] = on_gpus
            ) -> control.ControlMessage:
                return control.Reserve(rid, need, threads, build, on_gpus)

            try:
                reply = await node.request(dev_id, reserve, RESERVE_TIMEOUT_S)
            except TimeoutError:
                raise PoolError(f"{device.name} did not answer the reservation") from None
            if isinstance(reply, control.Refused):
                raise PoolError(f"{device.name} refused: {reply.reason}")
            if not isinstance(reply, control.Reserved):
                raise PoolError(f"{device.name} answered {type(reply).__name__}")
            host = chan.remote_host
            ctx = tls.pinned_client_context(node.identity, device.cert_pem)
            tunnel = TunnelClient((host, reply.tunnel_port), ctx, reply.ticket, device.name, node.bind_host)
            session.members.append(Member(dev_id, device.name, ranges, reply.reservation, tunnel))
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.shield(session.close(node))
        raise
    return session
