"""The per-device service: identity, trust, discovery, pairing, control channels, telemetry.

The window and ``hearth node`` both run one. It is asyncio only; nothing here knows about Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
from websockets.asyncio.server import Server, ServerConnection, serve

from hearth import __version__
from hearth.core import control
from hearth.core.control import PROTOCOL_VERSION
from hearth.core.device_id import device_id as id_of
from hearth.core.device_id import matches
from hearth.core.pairing import DeviceInfo, PairingError
from hearth.core.plan import HOST
from hearth.core.speed import Speed
from hearth.engine import rpc_worker
from hearth.mesh import channel as channels
from hearth.mesh import telemetry, tls
from hearth.mesh.address_book import AddressBook
from hearth.mesh.discovery import Discovery, Neighbour, txt_record
from hearth.mesh.identity import Identity, load_or_create
from hearth.mesh.listener import Gate, server_sockets
from hearth.mesh.pairing_client import PairingAttempt, request_pairing
from hearth.mesh.pairing_endpoint import CodeShown, PairingEndpoint
from hearth.mesh.peers import Peers
from hearth.mesh.trust import TrustedDevice, TrustStore
from hearth.mesh.workers import Reservation, Workers
from hearth.service.device_view import DeviceView, other_devices, this_device
from hearth.service.events import Event
from hearth.store import paths
from hearth.store.settings import Donation, load_donation, update_donation

log = logging.getLogger(__name__)
DEFAULT_PORT = 47311
TELEMETRY_PERIOD_S = 1.0
MAX_SHOWN_CODES = 16
CLOSE_NOT_PAIRED = 4003
CLOSE_UNKNOWN_PATH = 4004
# The node's port is open to the whole network. Its TLS handshake and then its websocket upgrade
# each get this long (so a connection is serving, or gone, within twice it); at most so many
# connections are in those handshakes at once (overall, and from one address), and at most so many
# are open from one address and in all. Past a cap a connection is closed as soon as it is accepted.
OPEN_TIMEOUT_S = 5.0
PORT_HANDSHAKES = 128
PORT_HANDSHAKES_PER_SOURCE = 16
PORT_OPEN = 512
PORT_OPEN_PER_SOURCE = 32


class Answering(Protocol):
    """Who carries answers between this device and paired ones (``service.routing.Routing``)."""

    def received(self, chan: channels.ControlChannel, message: control.AskMessage) -> None: ...

    def lost(self, dev_id: str) -> None: ...


@dataclass(frozen=True)
class NodeOptions:
    name: str | None = None
    host: str | None = None  # listen and advertise here only; None: every interface
    port: int = DEFAULT_PORT
    discovery: bool = True
    probe: bool = True  # measure this device's decode speed (once per llama.cpp build and thread cap)


class Node:
    def __init__(self, options: NodeOptions, show_code: Callable[[CodeShown], None] | None = None) -> None:
        self.options = options
        self.show_code = show_code or (lambda shown: print(shown.describe(), flush=True))
        self.identity: Identity = load_or_create(options.name)
        self.trust = TrustStore(paths.config_dir() / "trust.json")
        self.tls = tls.SwappableServerContext(self.identity, [d.cert_pem for d in self.trust.devices()])
        self.pairing = PairingEndpoint(self.identity, self.trust, self._code_shown, self._paired, self._info)
        self.address_book = AddressBook(
            paths.config_dir() / "manual.json", options.host, self._neighbours_changed
        )
        self.peers = Peers(
            self.identity,
            self.trust,
            self.hello,
            self._suggested,
            self._on_message,
            self._disconnected,
            # Outgoing connections leave from the address this node was told to use, so that peers see
            # (and reach back to) that address.
            options.host,
        )
        self.donation: Donation = load_donation()
        self.workers = Workers(
            self.identity.name,
            lambda: self.donation,
            lambda: (self.last_sample or telemetry.sample()).memory_total,
            lambda: self.hello().llama_build,
            lambda: self.tls.current,
            lambda dev_id: self.trust.get(dev_id) is not None,
            self._worker_lost,
            options.host,
        )
        # As a host: reservations that their devices reported lost, with the reason.
        self.lost_reservations: dict[str, str] = {}
        # Answers asked of and by paired devices, and what this device offers them in its telemetry.
        self.answering: Answering | None = None
        self.offer: Callable[[], control.Offer | None] = lambda: None
        self.loadable: Callable[[], list[control.Offer]] = list
        self.discovery: Discovery | None = None
        self.port = 0
        self._background: set[asyncio.Task[None]] = set()
        self.pending_codes: list[CodeShown] = []
        self.last_sample: control.Telemetry | None = None
        self.speed: Speed | None = None  # from the probe; None until measured
        self.gpu_speeds: list[Speed | None] = []  # each accelerator's probe, in llama.cpp's order
        self.rpc_step: float | None = None  # seconds a remote device adds to a token here, beyond the network
        self.listeners: list[Callable[[Event], None]] = []
        self._servers: list[Server] = []
        self.gate = Gate(
            PORT_HANDSHAKES,
            PORT_HANDSHAKES_PER_SOURCE,
            open_total=PORT_OPEN,
            open_per_source=PORT_OPEN_PER_SOURCE,
            deadline_s=2 * OPEN_TIMEOUT_S,
            name="node port",
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.trust.on_change(self._trust_changed)

    # --- life cycle ---

    async def start(self) -> None:
        # Folders and files left readable by an older Hearth (or a loose umask) become private.
        await asyncio.to_thread(paths.secure_state)
        sockets = server_sockets(self.options.host, self.options.port, self.gate)
        for sock in sockets:
            self._servers.append(
                await serve(
                    self._handle,
                    sock=sock,
                    ssl=self.tls.listening,
                    max_size=channels.MAX_MESSAGE,
                    ping_interval=channels.PING_INTERVAL_S,
                    ping_timeout=channels.PING_TIMEOUT_S,
                    open_timeout=OPEN_TIMEOUT_S,
                    close_timeout=2,
                    server_header=None,
                )
            )
        self.port = sockets[0].getsockname()[1]
        if self.options.discovery:
            sample = telemetry.sample()
            txt = txt_record(
                self.identity.device_id, self.identity.name, sample.memory_total, sample.accelerator
            )
            self.discovery = Discovery(
                self.identity.device_id,
                self.identity.name,
                self.port,
                txt,
                self.options.host,
                self._neighbours_changed,
                is_paired=lambda dev_id: self.trust.get(dev_id) is not None,
            )
            await self.discovery.start()
        self._tasks.append(asyncio.create_task(self._telemetry_loop()))
        self._tasks.append(asyncio.create_task(self.address_book.run()))
        if self.options.probe:
            self._spawn(self._probe_speed())
        if self.donation.enabled:
            self._spawn(self._learn_isolation())
        self.peers.sync()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.workers.release_all("the device is shutting down")
        self.workers.close()
        await self.peers.stop()
        if self.discovery is not None:
            await self.discovery.stop()
        for server in self._servers:
            server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3):
                await asyncio.gather(*(server.wait_closed() for server in self._servers))

    # --- incoming connections ---

    async def _handle(self, ws: ServerConnection) -> None:
        # TLS and the upgrade are done: the connection no longer counts as a handshake at the gate.
        self.gate.handshake_done(ws.remote_address)
        path = ws.request.path if ws.request else ""
        if path == "/pair":
            await self.pairing.serve(ws)
        elif path == "/control":
            await self._serve_control(ws)
        else:
            await ws.close(CLOSE_UNKNOWN_PATH, "unknown path")

    async def _serve_control(self, ws: ServerConnection) -> None:
        der = tls.peer_certificate(ws.transport.get_extra_info("ssl_object"))
        device = self.trust.get(id_of(der)) if der else None
        # TLS already refused unknown certificates; this catches a device forgotten during the handshake.
        if der is None or device is None or device.cert_der != der:
            await ws.close(CLOSE_NOT_PAIRED, "not paired with this device")
            return
        try:
            chan = await channels.open_session(ws, self.hello(), device.device_id)
        except channels.ChannelError as exc:
            log.info("control channel from %s refused: %s", device.name, exc)
            return
        self._notify(Event.DEVICES)
        await self.peers.serve(chan)
        self._notify(Event.DEVICES)

    # --- pieces wired together ---

    def hello(self) -> control.Hello:
        from hearth.engine import ggml

        try:
            build = ggml.build_id()
        except OSError:
            build = "none"
        return control.Hello(
            control.PROTOCOL_VERSION, __version__, build, self.identity.device_id, self.identity.name
        )

    def _sample(self) -> control.Telemetry:
        return telemetry.sample(self.donated_bytes, self.speed, self.donation, self.gpu_speeds)

    def _info(self) -> DeviceInfo:
        sample = self.last_sample or self._sample()
        ident = self.identity
        return DeviceInfo(
            ident.device_id,
            ident.name,
            platform.system(),
            sample.memory_total,
            sample.accelerator,
            PROTOCOL_VERSION,
        )

    def neighbours(self) -> dict[str, Neighbour]:
        """Devices in sight, by ID: found with mDNS or added by address. A paired device is in sight
        only at the address it last proved itself at over TLS: a record that puts it elsewhere is a
        suggestion for its dialer (``_suggested``) until a channel there authenticates as it."""
        found = {n.device_id: n for n in self.address_book.neighbours()}
        if self.discovery is not None:
            found.update(self.discovery.by_device())
        for dev_id in list(found):
            paired = self.trust.get(dev_id)
            if paired is None or not paired.address:
                continue
            proven = [n for n in self._records(dev_id) if n.address == paired.address]
            if proven:
                found[dev_id] = proven[0]
            else:
                del found[dev_id]
        return found

    def _records(self, dev_id: str) -> list[Neighbour]:
        """What mDNS (newest first) and the address book say of ``dev_id``: unproven."""
        found = self.discovery.records(dev_id) if self.discovery is not None else []
        return [*found, *(n for n in self.address_book.neighbours() if n.device_id == dev_id)]

    def _suggested(self, dev_id: str) -> list[str]:
        """Addresses to try for a paired device besides where it last proved itself."""
        return list(dict.fromkeys(n.address for n in self._records(dev_id)))

    async def add_address(self, address: str) -> Neighbour:
        """Add a device by ``host:port``; it stays listed and is checked again every few seconds."""
        return await self.address_book.add(address)

    def _on_message(self, chan: channels.ControlChannel, message: control.ControlMessage) -> None:
        if isinstance(message, control.Telemetry):
            self._notify(Event.TELEMETRY)
        elif isinstance(message, control.Error):
            log.info("%s reports: %s", chan.peer.name, message.message)
        elif isinstance(message, control.Reserve):
            self._spawn(self._answer_reserve(chan, message))
        elif isinstance(message, control.Release):
            reservation = self.workers.reservations.get(message.reservation)
            if reservation is not None and reservation.host_id == chan.peer_id:
                self._spawn(self.workers.release(message.reservation))
        elif isinstance(message, control.WorkerLost):
            self.lost_reservations[message.reservation] = message.reason
            self._notify(Event.POOL)
        elif isinstance(message, control.AskMessage) and self.answering is not None:
            self.answering.received(chan, message)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer_reserve(self, chan: channels.ControlChannel, request: control.Reserve) -> None:
        reply = await self.workers.reserve(chan.peer_id, request)
        await chan.send(reply)
        self._notify(Event.DONATION)

    async def _worker_lost(self, reservation: Reservation, reason: str) -> None:
        self._notify(Event.DONATION)
        chan = self.peers.channel(reservation.host_id)
        if chan is not None:
            await chan.send(control.WorkerLost(reservation.id, reason))

    def _disconnected(self, dev_id: str) -> None:
        # A host that is gone no longer needs its workers.
        self._spawn(self.workers.release_host(dev_id, "the host disconnected"))
        if self.answering is not None:
            self.answering.lost(dev_id)
        self._notify(Event.DEVICES)

    async def request(
        self, dev_id: str, make: Callable[[int], control.ControlMessage], timeout: float
    ) -> control.ControlMessage:
        """Send a request to a paired device and wait for the reply with the same request ID."""
        chan = self.peers.channel(dev_id)
        if chan is None:
            raise ConnectionError("not connected")
        return await chan.request(make, timeout)

    async def _probe_speed(self) -> None:
        from hearth.service import probe

        build = self.hello().llama_build
        try:
            self.speed = await probe.measure(build, self.donation.threads or None)
            if self.rpc_step is None:
                self.rpc_step = await probe.measure_rpc_step(build)
        except Exception as exc:  # a device that cannot be measured is planned with defaults
            log.warning("speed probe failed: %s", exc)
        self._notify(Event.DEVICES)
        # Each GPU after the CPU and the RPC step, which every plan needs; one that fails is assumed.
        try:
            self.gpu_speeds = await probe.measure_gpus(build)
        except Exception as exc:
            log.warning("GPU speed probes failed: %s", exc)
        self._notify(Event.DEVICES)

    async def set_donation(self, **changes: Any) -> Donation:
        """Change what this device donates; switching it off stops every worker at once."""
        threads = self.donation.threads
        self.donation = update_donation(**changes)
        if self.options.probe and self.donation.threads != threads:
            self._spawn(self._probe_speed())
        if not self.donation.enabled:
            for reservation in await self.workers.release_all("donation was switched off"):
                await self._worker_lost(reservation, f"{self.identity.name} stopped donating")
        else:
            self._spawn(self._learn_isolation())
        self._notify(Event.DONATION)
        return self.donation

    async def _learn_isolation(self) -> None:
        # Asked as soon as the device donates, so that the user hears it before any host reserves.
        if await rpc_worker.probe_isolation() is not None:
            self._notify(Event.DONATION)

    @property
    def workers_exposed(self) -> str | None:
        """While this device donates: why the workers it runs for paired hosts listen on the machine's
        loopback, where other local accounts can reach them (the kernel refused them a network
        namespace, or the system has none); None when each is isolated, or before that is known."""
        return rpc_worker.exposure() if self.donation.enabled else None

    @property
    def donated_bytes(self) -> int:
        if not self.donation.enabled:
            return 0
        total = (self.last_sample or telemetry.sample()).memory_total
        return self.donation.effective_memory(total)

    def _trust_changed(self) -> None:
        self.tls.update([d.cert_pem for d in self.trust.devices()])
        self.peers.sync()
        self._notify(Event.DEVICES)

    def _neighbours_changed(self) -> None:
        for device in self.trust.devices():
            if self.peers.channel(device.device_id) is None and self._records(device.device_id):
                self.peers.poke(device.device_id)
        self._notify(Event.DEVICES)

    def _code_shown(self, shown: CodeShown) -> None:
        # Codes that ran out go with the next one shown; a flood keeps only the newest few.
        now = time.monotonic()
        self.pending_codes = [
            c for c in self.pending_codes if c.requester_id != shown.requester_id and c.expires_at > now
        ][-(MAX_SHOWN_CODES - 1) :]
        self.pending_codes.append(shown)
        self.show_code(shown)
        self._notify(Event.PAIRING)

    def _paired(self, device: TrustedDevice) -> None:
        self.pending_codes = [c for c in self.pending_codes if c.requester_id != device.device_id]
        log.info("paired with %s", device.name)

    def _notify(self, what: Event) -> None:
        for listener in list(self.listeners):
            listener(what)

    async def _telemetry_loop(self) -> None:
        while True:
            sample = self._sample()
            sample = msgspec.structs.replace(sample, answers=self.offer(), loadable=self.loadable())
            self.last_sample = sample
            for chan in self.peers.all_channels():
                await chan.send(sample)
            await asyncio.sleep(TELEMETRY_PERIOD_S)

    # --- what the CLI and the window ask for ---

    @property
    def bind_host(self) -> str | None:
        """The address this node listens on when the user chose one (connections go out from it too)."""
        return self.options.host

    def is_me(self, text: str) -> bool:
        """Whether ``text`` names this device: ``host``, its name, or its ID (a prefix will do)."""
        ident = self.identity
        return text == HOST or text == ident.name or matches(ident.device_id, text)

    def resolve(self, target: str) -> str | None:
        """An address ``host:port`` for a device named by name, ID prefix or address."""
        for n in self.neighbours().values():
            if n.name == target or matches(n.device_id, target):
                return n.address
        paired = self.trust.find(target)
        if paired is not None:
            return paired.address or next(iter(self._suggested(paired.device_id)), None)
        if ":" in target:
            return target
        return None

    async def request_pairing(self, target: str) -> PairingAttempt:
        address = self.resolve(target)
        if address is None:
            raise PairingError(f"no device called '{target}' is in sight; give its address as host:port")
        return await request_pairing(address, self.identity, self.port, self.options.host)

    def accept_attempt(self, attempt: PairingAttempt) -> TrustedDevice:
        """Store the device an attempt has just paired with, and start talking to it."""
        return self.trust.add(attempt.peer_name, attempt.peer_cert_pem, attempt.address)

    def forget(self, target: str) -> TrustedDevice | None:
        device = self.trust.find(target)
        if device is not None:
            self.trust.forget(device.device_id)
        return device

    def devices(self) -> list[DeviceView]:
        """This device first, then every paired or visible one, with what is known of each."""
        me = self.last_sample or self._sample()
        address = f"{self.options.host or '*'}:{self.port}"
        return [
            this_device(self.identity, address, me, self.speed, self.rpc_step),
            *other_devices(self.trust, self.peers, self.neighbours()),
        ]
