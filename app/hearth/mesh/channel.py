"""Control channels: websockets over pinned mutual TLS, driven by the sans-I/O ``ControlSession``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from hearth.core import control, wire
from hearth.core.control import Close, ControlMessage, ControlSession, Deliver, Send
from hearth.core.errors import HearthError
from hearth.mesh import tls
from hearth.mesh.identity import Identity

log = logging.getLogger(__name__)
MAX_MESSAGE = 256 * 1024
HELLO_TIMEOUT_S = 10.0
PING_INTERVAL_S = 2.0
PING_TIMEOUT_S = 10.0
ROUND_TRIPS = 9  # keepalive round trips the channel's latency and hop are taken from (about 18 s of them)

Connection = ClientConnection | ServerConnection


def hop_s(round_trips: Sequence[float]) -> float | None:
    """What a hop waits for the network, from ping ``round_trips``: their median plus their spread.
    A token's messages take several packets each way and TCP hands them over in order, so on a link
    whose round trips vary a hop waits for the slowest of its packets, not for a median one. The
    spread is read below the median (twice the gap down to the lower quartile, which is the middle
    half's width where the variation is even), because a busy moment on either device only ever
    delays a ping: while fewer than half the pings were delayed, they move neither figure much.
    Fewer than four pings: the median alone."""
    if not round_trips:
        return None
    median = statistics.median(round_trips)
    if len(round_trips) < 4:
        return median
    low = statistics.quantiles(round_trips, n=4)[0]
    return median + 2 * (median - low)


class ChannelError(HearthError):
    """The control channel could not be opened; the message says why."""


class ControlChannel:
    """An open control connection with one paired device, after both hellos."""

    def __init__(self, ws: Connection, session: ControlSession) -> None:
        self.ws = ws
        self.session = session
        self._pending: dict[int, asyncio.Future[control.ControlMessage]] = {}
        self._request_ids = itertools.count(1)
        self.opened_at = time.time()
        self.telemetry: control.Telemetry | None = None
        self.telemetry_count = 0
        self.telemetry_at = 0.0  # time.monotonic() here when the last telemetry came
        self.on_message: Callable[[ControlChannel, ControlMessage], None] | None = None
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS)

    @property
    def peer(self) -> control.Hello:
        assert self.session.peer is not None
        return self.session.peer

    @property
    def peer_id(self) -> str:
        return self.peer.device_id

    @property
    def remote_host(self) -> str:
        """The address the other device is reached at (the host part of the connection's peer)."""
        return str(self.ws.remote_address[0])

    async def request(
        self, make: Callable[[int], control.ControlMessage], timeout: float
    ) -> control.ControlMessage:
        """Send ``make(request_id)`` and wait for the reply that carries the same request ID."""
        request_id = next(self._request_ids)
        future: asyncio.Future[control.ControlMessage] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self.send(make(request_id))
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    @property
    def latency_ms(self) -> float | None:
        """The round trip to the other device: the median of the last few keepalive pings. One ping
        can land while either side is busy."""
        self._note_round_trip()
        return statistics.median(self._round_trips) * 1000 if self._round_trips else None

    @property
    def hop_ms(self) -> float | None:
        """What the network adds to each pooled token's hop to the other device (``hop_s`` of the
        last few pings)."""
        self._note_round_trip()
        hop = hop_s(list(self._round_trips))
        return None if hop is None else hop * 1000

    def _note_round_trip(self) -> None:
        # websockets keeps only its last ping's round trip; each new ping gives a new value.
        latency = self.ws.latency
        if latency and (not self._round_trips or self._round_trips[-1] != latency):
            self._round_trips.append(latency)

    async def _watch_round_trips(self) -> None:
        # A ping's value lasts until the next ping's pong, one interval later (less its round trip):
        # looking four times an interval sees every ping that took less than three quarters of one.
        interval = (self.ws.ping_interval or PING_INTERVAL_S) / 4
        while True:
            await asyncio.sleep(interval)
            self._note_round_trip()

    async def send(self, message: ControlMessage) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(wire.encode(message))

    async def _apply(self, actions: list[control.Action]) -> bool:
        """Carry out the session's actions; False once the connection must end."""
        for action in actions:
            if isinstance(action, Send):
                await self.send(action.message)
            elif isinstance(action, Close):
                await self.ws.close(action.code, action.reason)
                return False
            elif isinstance(action, Deliver):
                message = action.message
                if isinstance(message, control.Telemetry):
                    self.telemetry = message
                    self.telemetry_count += 1
                    self.telemetry_at = time.monotonic()
                elif isinstance(message, control.Reserved | control.Refused):
                    future = self._pending.pop(message.request_id, None)
                    if future is not None and not future.done():
                        future.set_result(message)
                    continue
                if self.on_message:
                    self.on_message(self, message)
        return True

    async def run(self) -> None:
        """Serve the connection until it closes."""
        watch = asyncio.create_task(self._watch_round_trips())
        try:
            async for data in self.ws:
                if not await self._apply(self.session.receive(data)):
                    break
        except ConnectionClosed:
            pass
        finally:
            watch.cancel()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)


async def open_session(ws: Connection, hello: control.Hello, expected_peer: str) -> ControlChannel:
    """Exchange hellos on a fresh connection; raises ChannelError with the reason if that fails."""
    session = ControlSession(hello, expected_peer)
    channel = ControlChannel(ws, session)
    try:
        await ws.send(wire.encode(hello))
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            data = await ws.recv()
    except TimeoutError:
        await ws.close(control.CLOSE_POLICY, "no hello")
        raise ChannelError("the other device did not say hello in time") from None
    except ConnectionClosed as exc:
        raise ChannelError(_closed_reason(exc)) from None
    actions = session.receive(data)
    if not await channel._apply(actions):
        refusal = next(
            (a.message for a in actions if isinstance(a, Send) and isinstance(a.message, control.Error)), None
        )
        closing = next((a for a in actions if isinstance(a, Close)), None)
        raise ChannelError(refusal.message if refusal else closing.reason if closing else "refused")
    return channel


def _closed_reason(exc: ConnectionClosed) -> str:
    rcvd = exc.rcvd
    if rcvd is not None and rcvd.reason:
        return rcvd.reason
    if rcvd is None:
        # TLS 1.3: a server that refused our certificate shows it only now, as a dropped connection.
        return "the other device closed the connection (not paired with this one, or forgotten)"
    return f"closed ({rcvd.code})"


async def dial(
    address: str,
    identity: Identity,
    peer_cert_pem: str,
    expected_peer: str,
    hello: control.Hello,
    local_host: str | None = None,
) -> ControlChannel:
    """Open a control channel to a paired device at ``host:port`` (from ``local_host`` when given)."""
    ctx = tls.pinned_client_context(identity, peer_cert_pem)
    try:
        ws = await connect(
            f"wss://{address}/control",
            ssl=ctx,
            server_hostname="hearth",
            max_size=MAX_MESSAGE,
            open_timeout=10,
            close_timeout=2,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            local_addr=(local_host, 0) if local_host else None,
        )
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise ChannelError(f"cannot reach {address}: {exc}") from None
    seen = tls.peer_device_id(ws.transport.get_extra_info("ssl_object"))
    if seen != expected_peer:
        await ws.close(control.CLOSE_POLICY, "unexpected certificate")
        raise ChannelError(f"{address} presented another device's certificate")
    return await open_session(ws, hello, expected_peer)
