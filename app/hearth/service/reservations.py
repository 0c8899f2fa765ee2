"""Other devices' workers reserved for an engine that runs elsewhere on this machine: ``hearth chat
--pool`` asks the node for them, loads its own engine over them and gives them back when it ends."""

from __future__ import annotations

import contextlib
import logging

from hearth.core.plan import Plan
from hearth.core.profile import ModelProfile
from hearth.service.events import Event
from hearth.service.pools import Pool, Pools

log = logging.getLogger(__name__)


class Reservations:
    def __init__(self, pools: Pools) -> None:
        self._pools = pools
        self._held: list[Pool] = []

    async def reserve(self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16") -> Pool:
        """Reserve the plan's remote devices; the caller gives them back with ``release``."""
        pool = await self._pools.open(profile, plan, n_ctx, cache_type)
        self._held.append(pool)
        return pool

    async def release(self, pool: Pool) -> None:
        self._held = [p for p in self._held if p is not pool]
        await pool.close()

    def on_event(self, what: Event) -> None:
        """Told of every node event. An engine of `hearth chat` is not this service's to stop: ending
        its connections to a device that left makes its llama.cpp fail now rather than wait on it."""
        if what != Event.DEVICES:
            return
        for pool in self._held:
            for name in pool.cut_unreachable():
                log.warning("cut the tunnel to %s: its control channel is down", name)

    @staticmethod
    def failures(pool: Pool) -> list[str]:
        """What went wrong with each device of a reservation, named for people."""
        return [loss.reason for loss in pool.losses()]

    async def close(self) -> None:
        """Give back every reservation still held (the engine that asked has gone with the node)."""
        held, self._held = self._held, []
        for pool in held:
            with contextlib.suppress(Exception):
                await pool.close()
