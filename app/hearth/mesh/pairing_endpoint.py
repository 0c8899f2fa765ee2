"""The acceptor's side of pairing: the ``/pair`` path of a node's listening port."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from hearth.core import pairing, wire
from hearth.core.device_id import device_id, short_id
from hearth.core.pairing import Acceptor, CodeBook
from hearth.mesh.identity import Identity
from hearth.mesh.listener import source_key
from hearth.mesh.trust import TrustedDevice, TrustStore, cert_der_from_pem

log = logging.getLogger(__name__)
SESSION_LIMIT_S = pairing.CODE_TTL_S + 30
# A requester sends its request as soon as it is connected: one that has sent nothing by then goes.
FIRST_MESSAGE_S = 10.0
# Pairing sessions open at once (each may wait minutes for its code), in all and from one address.
MAX_SESSIONS = 64
MAX_SESSIONS_PER_SOURCE = 16
CLOSE_DONE = 1000
CLOSE_REFUSED = 4000


@dataclass(frozen=True)
class CodeShown:
    requester_name: str
    requester_id: str
    code: str
    expires_in: float
    expires_at: float  # time.monotonic() when the code runs out

    def describe(self) -> str:
        spaced = f"{self.code[:3]} {self.code[3:]}"
        return (
            f"Pairing request from {self.requester_name} ({short_id(self.requester_id)}). "
            f"Code: {spaced} (valid {self.expires_in:.0f} s)"
        )


class PairingEndpoint:
    def __init__(
        self,
        identity: Identity,
        trust: TrustStore,
        show_code: Callable[[CodeShown], None],
        on_paired: Callable[[TrustedDevice], None],
        info: Callable[[], pairing.DeviceInfo],
    ) -> None:
        self.info = info
        self.identity = identity
        self.trust = trust
        self.book = CodeBook()
        self.show_code = show_code
        self.on_paired = on_paired
        self._sessions: Counter[str] = Counter()  # open sessions by source (``listener.source_key``)

    async def serve(self, ws: ServerConnection) -> None:
        # Grouped as the listener groups sources: one IPv6 /64 is one source.
        source = source_key(str(ws.remote_address[0])) if ws.remote_address else ""
        if sum(self._sessions.values()) >= MAX_SESSIONS or self._sessions[source] >= MAX_SESSIONS_PER_SOURCE:
            await ws.close(CLOSE_REFUSED, "too many pairing requests at once; try again in a minute")
            return
        self._sessions[source] += 1
        machine = Acceptor(self.identity.name, self.identity.cert_der, self.book)
        try:
            async with asyncio.timeout(SESSION_LIMIT_S):
                async with asyncio.timeout(FIRST_MESSAGE_S):
                    first = await ws.recv()
                if not await self._step(ws, machine, first):
                    return
                async for data in ws:
                    if not await self._step(ws, machine, data):
                        return
        except (TimeoutError, ConnectionClosed):
            pass
        finally:
            machine.abandon(time.monotonic())
            self._sessions[source] -= 1
            if self._sessions[source] <= 0:
                del self._sessions[source]

    async def _step(self, ws: ServerConnection, machine: Acceptor, data: str | bytes) -> bool:
        try:
            message = pairing.decode(data)
        except wire.WireError as exc:
            await self._refuse(ws, machine, f"malformed pairing message: {exc}")
            return False
        if isinstance(message, pairing.InfoRequest) and machine.phase is pairing.Phase.START:
            await ws.send(wire.encode(self.info()))
            await ws.close(CLOSE_DONE, "info")
            return False
        peer_der = None
        if isinstance(message, pairing.PairRequest):
            try:
                peer_der = cert_der_from_pem(message.cert_pem)
            except ValueError:
                await self._refuse(ws, machine, "the request's certificate is not readable")
                return False
        reply = machine.receive(message, time.monotonic(), peer_der)
        if machine.code_to_show:
            self.show_code(
                CodeShown(
                    machine.peer_name,
                    device_id(machine.peer_cert_der),
                    machine.code_to_show,
                    pairing.CODE_TTL_S,
                    time.monotonic() + pairing.CODE_TTL_S,
                )
            )
            machine.code_to_show = None
        if machine.phase is pairing.Phase.PAIRED:
            host = ws.remote_address[0] if ws.remote_address else ""
            address = f"{host}:{machine.peer_port}" if host and machine.peer_port else ""
            device = self.trust.add(machine.peer_name, machine.peer_cert_pem, address)
        if reply is not None:
            await ws.send(wire.encode(reply))
        if machine.phase is pairing.Phase.PAIRED:
            self.on_paired(device)
            await ws.close(CLOSE_DONE, "paired")
            return False
        if machine.phase is pairing.Phase.FAILED:
            reason = reply.reason if isinstance(reply, pairing.PairResult) else "refused"
            log.info("pairing refused: %s", reason)
            await ws.close(CLOSE_REFUSED, reason[:100])
            return False
        return True

    async def _refuse(self, ws: ServerConnection, machine: Acceptor, reason: str) -> None:
        machine.abandon(time.monotonic())
        await ws.send(wire.encode(pairing.PairResult(False, reason[:200])))
        await ws.close(CLOSE_REFUSED, reason[:100])
