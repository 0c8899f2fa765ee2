"""The initiator's side of pairing over the network: open, wait for the code, finish."""

from __future__ import annotations

import asyncio

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from hearth.core import pairing, wire
from hearth.core.device_id import device_id
from hearth.core.pairing import Initiator, PairingError
from hearth.mesh import tls
from hearth.mesh.identity import Identity

STEP_TIMEOUT_S = 15.0


class PairingAttempt:
    """A request that the other device answered with a code on its screen; ``finish`` takes that code."""

    def __init__(self, ws: ClientConnection, machine: Initiator, address: str, peer_cert_der: bytes) -> None:
        self._ws = ws
        self._machine = machine
        self.address = address
        self.peer_cert_pem = (
            x509.load_der_x509_certificate(peer_cert_der).public_bytes(serialization.Encoding.PEM).decode()
        )
        self.peer_id = device_id(peer_cert_der)

    @property
    def peer_name(self) -> str:
        return self._machine.peer_name

    async def _exchange(self, message: pairing.PairMessage) -> pairing.PairMessage:
        try:
            await self._ws.send(wire.encode(message))
            async with asyncio.timeout(STEP_TIMEOUT_S):
                return pairing.decode(await self._ws.recv())
        except ConnectionClosed as exc:
            reason = exc.rcvd.reason if exc.rcvd and exc.rcvd.reason else "the other device hung up"
            raise PairingError(reason) from None
        except TimeoutError:
            raise PairingError("the other device stopped answering") from None
        except wire.WireError as exc:
            raise PairingError(f"the other device sent a malformed message ({exc})") from None

    async def finish(self, code: str) -> None:
        """Run the key exchange with ``code``; returns once both sides have proven it, else PairingError."""
        try:
            reply = await self._exchange(self._machine.enter_code(code))
            confirm = self._machine.receive(reply)
            assert confirm is not None
            self._machine.receive(await self._exchange(confirm))
            if self._machine.phase is not pairing.Phase.PAIRED:
                raise PairingError("pairing did not complete")
        finally:
            await self.close()

    async def close(self) -> None:
        await self._ws.close()


async def _open(address: str, local_host: str | None = None) -> ClientConnection:
    try:
        return await connect(
            f"wss://{address}/pair",
            ssl=tls.pairing_client_context(),
            server_hostname="hearth",
            open_timeout=10,
            max_size=64 * 1024,
            local_addr=(local_host, 0) if local_host else None,
        )
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise PairingError(f"cannot reach {address}: {exc}") from None


async def fetch_info(address: str, local_host: str | None = None) -> pairing.DeviceInfo:
    """What the device at ``host:port`` says it is (a hint, like its mDNS record), and whose key it holds."""
    ws = await _open(address, local_host)
    peer_der = tls.peer_certificate(ws.transport.get_extra_info("ssl_object"))
    try:
        await ws.send(wire.encode(pairing.InfoRequest()))
        async with asyncio.timeout(STEP_TIMEOUT_S):
            info = pairing.decode(await ws.recv())
    except (ConnectionClosed, TimeoutError, wire.WireError) as exc:
        raise PairingError(f"{address} did not describe itself ({exc})") from None
    finally:
        await ws.close()
    if not isinstance(info, pairing.DeviceInfo) or not peer_der or device_id(peer_der) != info.device_id:
        raise PairingError(f"{address} is not a Hearth device, or claims an ID that is not its own")
    return info


async def request_pairing(
    address: str, identity: Identity, my_port: int = 0, local_host: str | None = None
) -> PairingAttempt:
    """Ask the device at ``host:port`` to pair; returns once it shows its code."""
    ws = await _open(address, local_host)
    peer_der = tls.peer_certificate(ws.transport.get_extra_info("ssl_object"))
    if not peer_der:
        await ws.close()
        raise PairingError(f"{address} did not present a certificate")
    machine = Initiator(
        identity.name,
        identity.cert_pem.decode(),
        identity.cert_der,
        peer_der,
        lambda data: pairing.sign_proof(identity.key_pem, data),
        my_port,
    )
    attempt = PairingAttempt(ws, machine, address, peer_der)
    try:
        # The request, then the proof that this device holds its key; then the code is on the other
        # screen. The machine answers at most one proof request, so this takes two exchanges.
        challenge = await attempt._exchange(machine.start())
        proof = machine.receive(challenge)
        if proof is not None:
            machine.receive(await attempt._exchange(proof))
        if machine.phase is not pairing.Phase.AWAIT_CODE:
            raise PairingError("the other device did not show a code")
    except PairingError:
        await attempt.close()
        raise
    return attempt
