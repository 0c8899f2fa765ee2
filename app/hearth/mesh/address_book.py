"""Devices added by address (``host:port``), for networks where mDNS does not reach.

The addresses are kept in a file; each is asked to describe itself when added and again every few
seconds, so that a device that goes away or comes back shows as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hearth.core.errors import HearthError
from hearth.core.names import clean_name
from hearth.core.pairing import PairingError
from hearth.mesh.discovery import Neighbour
from hearth.mesh.pairing_client import fetch_info
from hearth.store import json_state

REFRESH_S = 5.0


class AddressError(HearthError, ValueError):
    """Text that is not ``host:port``."""


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AddressError(f"'{address}' is not host:port")
    return host, int(port)


class AddressBook:
    def __init__(self, path: Path, local_host: str | None, on_change: Callable[[], None]) -> None:
        self._path = path
        self._local_host = local_host
        self._on_change = on_change
        # address -> what it said last time, or None while it does not answer
        self.entries: dict[str, Neighbour | None] = dict.fromkeys(self._load())

    def _load(self) -> list[str]:
        return json_state.load(self._path, list[str], list)

    def neighbours(self) -> list[Neighbour]:
        """The listed devices that answered last time."""
        return [n for n in self.entries.values() if n is not None]

    async def add(self, address: str) -> Neighbour:
        """Ask ``address`` to describe itself and list it; raises AddressError or PairingError."""
        neighbour = await self._ask(address)
        self.entries[address] = neighbour
        json_state.write(self._path, sorted(self.entries))
        self._on_change()
        return neighbour

    async def _ask(self, address: str) -> Neighbour:
        host, port = split_address(address)
        info = await fetch_info(address, self._local_host)
        return Neighbour(
            info.device_id,
            clean_name(info.name),
            info.os,
            info.memory_total,
            info.accelerator,
            info.protocol,
            host,
            port,
        )

    async def run(self) -> None:
        """Check every listed address again, every few seconds, until cancelled."""
        while True:
            await asyncio.sleep(REFRESH_S)
            for address in list(self.entries):
                try:
                    answer: Neighbour | None = await self._ask(address)
                except (AddressError, PairingError):
                    answer = None
                if self.entries.get(address) != answer and address in self.entries:
                    self.entries[address] = answer
                    self._on_change()
