"""The `hearth` commands talk only to their own node: a stale ``node.json`` whose port another program
took is refused before anything is sent to it, and the node serves only clients that prove the key."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response

from hearth.api import local
from hearth.api import local_messages as msg
from hearth.api.local import LocalApi, LocalApiError, LocalClient
from hearth.service.node import NodeOptions
from hearth.service.planning import named_specs
from hearth.service.root import Hearth
from hearth.service.status import DonationStatus

HEARTH = [sys.executable, "-m", "hearth"]


class Squatter:
    """What took the port of a node that crashed: it speaks the local API's websocket, lets every
    connection in, agrees to everything and records what it is told."""

    def __init__(self, forge: bool) -> None:
        self.forge = forge  # answer the challenge with the client's own nonce, and a made-up proof
        self.headers: list[Headers] = []
        self.messages: list[str | bytes] = []

    def _forge(self, connection: ServerConnection, request: Request, response: Response) -> None:
        if self.forge:
            nonce = request.headers.get(local.CHALLENGE_HEADER, "")
            response.headers[local.CHALLENGE_HEADER] = nonce
            response.headers[local.PROOF_HEADER] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    async def _serve(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers.append(ws.request.headers)
        try:
            async for raw in ws:
                self.messages.append(raw)
                endpoints = {"endpoints": ["127.0.0.1:9"], "devices": ["evil"], "plan": "host:0-1"}
                await ws.send(
                    json.dumps({"ok": True, "attempt": 1, "peer_name": "x", "peer_id": "X" * 9, **endpoints})
                )
        except ConnectionClosed:
            pass

    def told(self) -> str:
        return repr([dict(h.raw_items()) for h in self.headers]) + repr(self.messages)


def _stale_state(home: Path, port: int) -> str:
    """The node.json a crashed node left, pointing at ``port``; returns its secret."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    state = {"port": port, "key": secret, "token": secret, "pid": 999_999, "device_id": "AAAA"}
    (home / local.STATE_FILE).write_text(json.dumps(state))
    return secret


@pytest.mark.parametrize("forge", [False, True], ids=["agrees", "forges"])
def test_a_stale_node_file_pointing_at_another_program_is_refused_and_told_nothing(
    hearth_home: Path, forge: bool
) -> None:
    squatter = Squatter(forge)
    hearth_home.mkdir(parents=True, exist_ok=True)

    async def scenario() -> tuple[str, list[tuple[int, str]]]:
        async with serve(squatter._serve, "127.0.0.1", 0, process_response=squatter._forge) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            secret = _stale_state(hearth_home, port)
            with pytest.raises(LocalApiError) as refused:
                await LocalClient.open()
            assert "is not that node" in str(refused.value) and str(port) in str(refused.value)
            # The commands too: pairing (whose code would go to the squatter) and a pooled chat (whose
            # engine would load from the squatter's endpoints) stop at once, with the reason.
            said = []
            for command in (("pair", "127.0.0.9:47311", "--code", "123456"), ("devices",)):
                proc = await asyncio.create_subprocess_exec(
                    *HEARTH, *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
                )
                _, err = await asyncio.wait_for(proc.communicate(), 60)
                said.append((proc.returncode or 0, err.decode()))
            return secret, said

    secret, said = asyncio.run(asyncio.wait_for(scenario(), 120))
    for code, err in said:
        assert code == 1 and "is not that node" in err and "Traceback" not in err, err
    told = squatter.told()
    assert squatter.headers, "the client never reached the squatter"
    assert secret not in told and "Authorization" not in told, told
    assert not squatter.messages, told


def test_a_port_that_speaks_no_websocket_is_refused_too(hearth_home: Path) -> None:
    got: list[bytes] = []
    hearth_home.mkdir(parents=True, exist_ok=True)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.read(65536))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
        await writer.drain()
        writer.close()

    async def scenario() -> str:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            secret = _stale_state(hearth_home, port)
            with pytest.raises(LocalApiError, match="is not that node"):
                await LocalClient.open()
            return secret

    secret = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert got and secret.encode() not in b"".join(got)


def test_the_node_serves_only_clients_that_prove_the_key(hearth_home: Path) -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        api = LocalApi(services)
        try:
            await api.start()
            state = json.loads((hearth_home / local.STATE_FILE).read_text())
            url = f"ws://127.0.0.1:{state['port']}"
            # Without a challenge: refused in the handshake.
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url):
                    pass
            assert refused.value.response.status_code == 401
            # With one, but a request where the proof belongs: closed unanswered.
            headers = {local.CHALLENGE_HEADER: secrets.token_urlsafe(32)}
            async with connect(url, additional_headers=headers) as ws:
                assert ws.response is not None and ws.response.headers.get(local.PROOF_HEADER)
                await ws.send(json.dumps({"op": "status"}))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            # A client that read node.json is served.
            client = await LocalClient.open()
            try:
                assert (await client.call(msg.Status())).device_id == services._node.identity.device_id
            finally:
                await client.close()
        finally:
            await api.stop()
            await services.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_the_client_gets_each_answer_as_the_type_the_node_built(hearth_home: Path) -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        api = LocalApi(services)
        try:
            await api.start()
            client = await LocalClient.open()
            try:
                (me,) = (await client.call(msg.Devices())).devices
                assert me == services.devices.listed()[0]
                assert me.this_device and me.name == "alpha"
                planning = await client.call(msg.PlanningDevicesRequest())
                assert planning == msg.PlanningDevices(*named_specs(services.plans.devices()))
                with pytest.raises(LocalApiError) as refused:
                    await client.call(msg.Forget(device="beta"))
                assert str(refused.value) == "no paired device called 'beta'"
                donated = await client.call(msg.Donate(enabled=False))
                assert donated == DonationStatus(False, 0)
            finally:
                await client.close()
        finally:
            await api.stop()
            await services.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))
