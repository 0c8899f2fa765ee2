"""Finding other Hearth devices on the LAN with mDNS/DNS-SD (zeroconf).

What a device advertises is a hint for the UI and for where to connect. It is never trusted: who a
device is gets proven by TLS with a pinned certificate. Anyone on the network can advertise, as many
records as they like, so what is kept of them is bounded: ``MAX_UNPAIRED`` unpaired devices (the
device list shows no more), each dropped once it has not answered for ``UNPAIRED_GONE_S``; a paired
device's ID under at most ``MAX_NAMES_PER_PAIRED`` names, each only an address to try (the node dials
a paired device where it last proved itself, ``service.node``); only what is kept is probed, and
probes and resolutions run a few at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import socket
import time
from collections import OrderedDict
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
# What is kept of what the network advertises (see the module's docstring).
MAX_UNPAIRED = 64
MAX_NAMES_PER_PAIRED = 2
UNPAIRED_GONE_S = 30.0
PROBES_AT_ONCE = 16
RESOLVES_AT_ONCE = 8
# Names waiting to be resolved, and names that found no room, kept to try again once there is some;
# past either, the newest are forgotten until they announce themselves again.
MAX_WAITING = 256


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
        is_paired: Callable[[str], bool] | None = None,
    ) -> None:
        self.device_id = device_id
        self.name = name
        self.port = port
        self.txt = txt
        self.host = host
        self.on_change = on_change
        self.is_paired = is_paired or (lambda _dev_id: False)
        self.neighbours: dict[str, Neighbour] = {}  # by service instance name
        self._failures: dict[str, int] = {}
        self._seen_at: dict[str, float] = {}  # when each name's record was last taken in
        self._silent_since: dict[str, float] = {}  # since when each name has not answered
        self._pending: set[str] = set()  # names waiting for, or in, a resolution
        self._no_room: OrderedDict[str, None] = OrderedDict()
        self._resolves = asyncio.Semaphore(RESOLVES_AT_ONCE)
        self._probes = asyncio.Semaphore(PROBES_AT_ONCE)
        self._refusing = False  # a burst of advertisements found no room; said once
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
            self._no_room.pop(name, None)
            was_answering = self._failures.get(name, 0) < PROBE_FAILURES
            gone = self._drop(name)
            if gone is not None and was_answering:
                log.info("lost %s (%s)", gone.name, gone.address)
                self._changed()
            return
        self._schedule(name)

    def _schedule(self, name: str) -> None:
        """Resolve ``name`` when a place comes free; past ``MAX_WAITING`` it waits for room instead."""
        if name in self._pending:
            return
        if len(self._pending) >= MAX_WAITING:
            self._wait_for_room(name)
            return
        self._pending.add(name)
        self._spawn(self._resolve_in_turn(name))

    async def _resolve_in_turn(self, name: str) -> None:
        try:
            async with self._resolves:
                await self._resolve(name)
        finally:
            self._pending.discard(name)

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
        self.take(name, neighbour)

    def take(self, name: str, neighbour: Neighbour) -> bool:
        """Keep what the record ``name`` says, if there is room for it; whether it was kept."""
        now = time.monotonic()
        known = self.neighbours.get(name)
        if known == neighbour:
            self._failures.pop(name, None)
            self._silent_since.pop(name, None)
            self._seen_at[name] = now
            return True
        if known is not None:
            self._drop(name)  # taken in again below, counted as what it says now
        if self.is_paired(neighbour.device_id):
            same = sorted(
                (n for n, kept in self.neighbours.items() if kept.device_id == neighbour.device_id),
                key=lambda n: self._seen_at.get(n, 0.0),
            )
            # The newest suggestions win: a device that moved announces itself again.
            for old in same[: max(0, len(same) - MAX_NAMES_PER_PAIRED + 1)]:
                self._drop(old)
        elif self._unpaired_count() >= MAX_UNPAIRED and not self._evict_a_silent_unpaired():
            self._wait_for_room(name)
            if known is not None:
                self._changed()
            return False
        if known is None:
            log.info("found %s (%s) at %s", neighbour.name, neighbour.device_id[:9], neighbour.address)
        self.neighbours[name] = neighbour
        self._seen_at[name] = now
        self._changed()
        return True

    def _unpaired_count(self) -> int:
        return sum(1 for n in self.neighbours.values() if not self.is_paired(n.device_id))

    def _evict_a_silent_unpaired(self) -> bool:
        silent = [
            n
            for n, kept in self.neighbours.items()
            if n in self._silent_since and not self.is_paired(kept.device_id)
        ]
        if not silent:
            return False
        self._drop(min(silent, key=lambda n: self._silent_since[n]))
        return True

    def _wait_for_room(self, name: str) -> None:
        self._no_room[name] = None
        self._no_room.move_to_end(name)
        while len(self._no_room) > MAX_WAITING:
            self._no_room.popitem(last=False)
        if not self._refusing:
            self._refusing = True
            log.warning(
                "more devices advertise themselves than Hearth keeps (%d unpaired); the others are "
                "not shown until there is room",
                MAX_UNPAIRED,
            )

    def _drop(self, name: str) -> Neighbour | None:
        self._failures.pop(name, None)
        self._seen_at.pop(name, None)
        self._silent_since.pop(name, None)
        return self.neighbours.pop(name, None)

    def _tidy(self, now: float) -> None:
        """Drop unpaired neighbours silent for ``UNPAIRED_GONE_S``, and any past the caps (a device
        forgotten, or paired, since it was taken in); then try names that waited for room."""
        for name, kept in list(self.neighbours.items()):
            since = self._silent_since.get(name)
            if since is not None and now - since >= UNPAIRED_GONE_S and not self.is_paired(kept.device_id):
                self._drop(name)
        unpaired = sorted(
            (n for n, kept in self.neighbours.items() if not self.is_paired(kept.device_id)),
            key=lambda n: (n not in self._silent_since, self._seen_at.get(n, 0.0)),
        )
        for name in unpaired[: max(0, len(unpaired) - MAX_UNPAIRED)]:
            self._drop(name)
        by_id: dict[str, list[str]] = {}
        for name, kept in self.neighbours.items():
            if self.is_paired(kept.device_id):
                by_id.setdefault(kept.device_id, []).append(name)
        for names in by_id.values():
            names.sort(key=lambda n: self._seen_at.get(n, 0.0))
            for name in names[: max(0, len(names) - MAX_NAMES_PER_PAIRED)]:
                self._drop(name)
        room = MAX_UNPAIRED - self._unpaired_count()
        if room > 0 and self._no_room:
            self._refusing = False
            for _ in range(min(room, len(self._no_room))):
                name, _ = self._no_room.popitem(last=True)
                if name not in self.neighbours:
                    self._schedule(name)

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(PROBE_INTERVAL_S)
            before_tidy = len(self.by_device())
            self._tidy(time.monotonic())
            if len(self.by_device()) != before_tidy:
                self._changed()
            # Only what is kept: at most MAX_UNPAIRED unpaired and a few names per paired device.
            names = list(self.neighbours)
            results = await asyncio.gather(*(self._probe_in_turn(self.neighbours[n]) for n in names))
            now = time.monotonic()
            for name, ok in zip(names, results, strict=True):
                if name not in self.neighbours:
                    continue
                before = self._failures.get(name, 0)
                after = 0 if ok else before + 1
                self._failures[name] = after
                if ok:
                    self._silent_since.pop(name, None)
                else:
                    self._silent_since.setdefault(name, now)
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

    async def _probe_in_turn(self, neighbour: Neighbour) -> bool:
        async with self._probes:
            return await self._probe(neighbour)

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

    def _answering(self) -> list[tuple[str, Neighbour]]:
        """Names that answer with what they said, oldest record first."""
        answering = [
            (name, n) for name, n in self.neighbours.items() if self._failures.get(name, 0) < PROBE_FAILURES
        ]
        return sorted(answering, key=lambda item: self._seen_at.get(item[0], 0.0))

    def by_device(self) -> dict[str, Neighbour]:
        """Neighbours that answer, by device ID (the newest record of an ID under several names)."""
        return {n.device_id: n for _, n in self._answering()}

    def records(self, dev_id: str) -> list[Neighbour]:
        """What the records that answer say of ``dev_id``, newest first: where it may be, no more."""
        return [n for _, n in reversed(self._answering()) if n.device_id == dev_id]

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
