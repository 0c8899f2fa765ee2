"""Finding other Hearth devices on the LAN with mDNS/DNS-SD (zeroconf).

What a device advertises is a hint for the UI and for where to connect. It is never trusted: who a
device is gets proven by TLS with a pinned certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import psutil
from zeroconf import InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from hearth.core.control import PROTOCOL_VERSION
from hearth.core.names import clean_name

log = logging.getLogger(__name__)
SERVICE = "_hearth._tcp.local."
RESOLVE_TIMEOUT_MS = 3000
# A device that says goodbye leaves at once. One that vanished without a word (power cut, kill -9)
# keeps its mDNS records cached for a long time, so every neighbour is also checked with a bare TCP
# connect to its advertised port; two failures in a row hide it until it answers again.
PROBE_INTERVAL_S = 2.0
PROBE_TIMEOUT_S = 1.0
PROBE_FAILURES = 2


@dataclass(frozen=True)
class Neighbour:
    device_id: str
    name: str
    os: str
    memory_total: int
    accelerator: str
    protocol: int
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def txt_record(device_id: str, name: str, memory_total: int, accelerator: str) -> dict[str, str]:
    return {
        "v": str(PROTOCOL_VERSION),
        "id": device_id,
        "name": name,
        "os": platform.system(),
        "mem": str(memory_total),
        "acc": accelerator,
    }


def parse_txt(props: dict[bytes, bytes | None], host: str, port: int) -> Neighbour | None:
    """A neighbour from an advertisement, or None if it is not a usable Hearth advertisement."""

    def text(key: str, limit: int = 200) -> str:
        raw = props.get(key.encode()) or b""
        return raw.decode("utf-8", errors="replace")[:limit]

    try:
        protocol = int(text("v") or "0")
        memory = int(text("mem") or "0")
    except ValueError:
        return None
    dev_id = text("id", 80)
    if not dev_id or not 0 < port < 65536:
        return None
    return Neighbour(
        dev_id,
        clean_name(text("name", 200)),
        text("os", 32),
        max(0, memory),
        text("acc", 120),
        protocol,
        host,
        port,
    )


def local_addresses() -> list[str]:
    found = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                found.append(a.address)
    return found or ["127.0.0.1"]


class Discovery:
    """Advertise this device and keep a live table of the others."""

    def __init__(
        self,
        device_id: str,
        name: str,
        port: int,
        txt: dict[str, str],
        host: str | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.device_id = device_id
        self.name = name
        self.port = port
        self.txt = txt
        self.host = host
        self.on_change = on_change
        self.neighbours: dict[str, Neighbour] = {}  # by service instance name
        self._failures: dict[str, int] = {}
        self._registration: asyncio.Future[Any] | None = None
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        interfaces = [self.host] if self.host else InterfaceChoice.All
        self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        short = self.device_id.split("-")[0].lower()
        label = f"{self.name[:40]} [{short}]"
        addresses = [self.host] if self.host else local_addresses()
        self._info = AsyncServiceInfo(
            SERVICE,
            f"{label}.{SERVICE}",
            port=self.port,
            properties=self.txt,
            server=f"hearth-{short}.local.",
            parsed_addresses=addresses,
        )
        # Probing and announcing go on in the background; the task is kept so that stop can end it.
        self._registration = asyncio.ensure_future(
            await self._zc.async_register_service(self._info, allow_name_change=True)
        )
        self._browser = AsyncServiceBrowser(self._zc.zeroconf, SERVICE, handlers=[self._on_state])
        self._spawn(self._probe_loop())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_state(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            gone = self.neighbours.pop(name, None)
            if gone is not None and self._failures.pop(name, 0) < PROBE_FAILURES:
                log.info("lost %s (%s)", gone.name, gone.address)
                self._changed()
            return
        self._spawn(self._resolve(name))

    async def _resolve(self, name: str) -> None:
        assert self._zc is not None
        info = AsyncServiceInfo(SERVICE, name)
        if not await info.async_request(self._zc.zeroconf, RESOLVE_TIMEOUT_MS):
            return
        addresses = info.parsed_addresses(IPVersion.V4Only)
        if not addresses or info.port is None:
            return
        neighbour = parse_txt(info.properties or {}, addresses[0], info.port)
        if neighbour is None or neighbour.device_id == self.device_id:
            return
        self._failures.pop(name, None)
        if self.neighbours.get(name) != neighbour:
            if name not in self.neighbours:
                log.info("found %s (%s) at %s", neighbour.name, neighbour.device_id[:9], neighbour.address)
            self.neighbours[name] = neighbour
            self._changed()

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL_S)
            names = list(self.neighbours)
            results = await asyncio.gather(*(self._probe(self.neighbours[n]) for n in names))
            for name, ok in zip(names, results, strict=True):
                if name not in self.neighbours:
                    continue
                before = self._failures.get(name, 0)
                after = 0 if ok else before + 1
                self._failures[name] = after
                neighbour = self.neighbours[name]
                if before < PROBE_FAILURES <= after:
                    log.info("lost %s (%s): no answer", neighbour.name, neighbour.address)
                    self._changed()
                elif after == 0 and before >= PROBE_FAILURES:
                    log.info(
                        "found %s (%s) at %s again",
                        neighbour.name,
                        neighbour.device_id[:9],
                        neighbour.address,
                    )
                    self._changed()

    @staticmethod
    async def _probe(neighbour: Neighbour) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                _, writer = await asyncio.open_connection(neighbour.host, neighbour.port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    def by_device(self) -> dict[str, Neighbour]:
        """Neighbours that answer, by device ID."""
        return {
            n.device_id: n
            for name, n in self.neighbours.items()
            if self._failures.get(name, 0) < PROBE_FAILURES
        }

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._registration is not None and not self._registration.done():
            self._registration.cancel()
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._zc is not None:
            if self._info is not None:
                try:
                    # Goodbye packets: neighbours drop this device at once instead of waiting for probes.
                    # The call returns the broadcast as a task; closing before it ends would cut it off.
                    await (await self._zc.async_unregister_service(self._info))
                except Exception as exc:  # a network that is already gone cannot hear goodbye
                    log.info("could not say goodbye: %s", exc)
            await self._zc.async_close()
