"""What this device lends paired hosts: memory and threads, switched on and off by its user."""

from __future__ import annotations

from enum import StrEnum

from hearth.service.node import Node
from hearth.service.status import DonationStatus
from hearth.store.settings import Donation


class DonationState(StrEnum):
    IDLE = "idle"  # not donating
    DONATING = "donating"  # available to paired hosts
    BUSY = "busy"  # a host is using a worker here


class Donating:
    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def settings(self) -> Donation:
        return self._node.donation

    @property
    def donated_bytes(self) -> int:
        """What paired hosts may use here now; 0 while not donating."""
        return self._node.donated_bytes

    async def donate(
        self,
        enabled: bool,
        max_memory: int | None = None,
        threads: int | None = None,
        max_vram: int | None = None,
    ) -> DonationStatus:
        """Switch donation on or off; limits left as None keep their stored value. ``max_memory``
        caps the RAM lent, ``max_vram`` what each GPU lends (0: the default for either)."""
        changes: dict[str, bool | int] = {"enabled": enabled}
        for name, limit in (("max_memory", max_memory), ("max_vram", max_vram)):
            if limit is not None:
                if limit < 0:
                    raise ValueError(f"a donation's {name} is 0 (the default) or more bytes, not {limit}")
                changes[name] = limit
        if threads is not None:
            changes["threads"] = threads
        donation = await self._node.set_donation(**changes)
        return DonationStatus(donation.enabled, self._node.donated_bytes)

    async def answer_devices(self, allowed: bool | None = None, loads: bool | None = None) -> None:
        """Whether paired devices may send their apps' requests to the model loaded here (when theirs
        is busy), and whether, with nothing loaded here, the same file of this library is loaded for
        them (``loads``); None keeps what is stored; saved."""
        changes = {k: v for k, v in (("answers", allowed), ("loads", loads)) if v is not None}
        if changes:
            await self._node.set_donation(**changes)

    @property
    def workers_exposed(self) -> str | None:
        """While this device donates: why the workers it runs for paired hosts can be reached by other
        local accounts (no network namespace for them here); None when they are isolated or before
        that is known. ``Event.DONATION`` says when it changes."""
        return self._node.workers_exposed

    def state(self) -> DonationState:
        if not self._node.donation.enabled:
            return DonationState.IDLE
        return DonationState.BUSY if self._node.workers.reservations else DonationState.DONATING
