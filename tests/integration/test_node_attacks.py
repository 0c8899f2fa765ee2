"""A relaying man-in-the-middle, and thousands of malformed or out-of-order messages."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import ssl
import sys

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from harness.nodes import HEARTH, env_for, open_local, pair, wait_until
from hearth.core import control, pairing, wire
from hearth.mesh import tls
from hearth.mesh.channel import dial
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.pairing_client import request_pairing


def _identity(name: str) -> Identity:
    cert, key = make_certificate()
    return Identity(name, cert, key, "file")


def test_a_relaying_man_in_the_middle_cannot_pair(node_pair) -> None:
    a, b = node_pair
    mallory = _identity("mallory")

    async def scenario() -> tuple[int, str]:
        async def relay(down: ServerConnection) -> None:
            async with connect(f"wss://{b.address}/pair", ssl=tls.pairing_client_context()) as up:

                async def pump(src, dst) -> None:
                    try:
                        async for message in src:
                            await dst.send(message)
                    except ConnectionClosed:
                        pass
                    await dst.close()

                await asyncio.gather(pump(down, up), pump(up, down))

        async with serve(relay, "127.0.0.3", 0, ssl=tls.server_context(mallory, [])) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            proc = await asyncio.create_subprocess_exec(
                *HEARTH,
                "pair",
                f"127.0.0.3:{port}",
                env=env_for(a.home),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            # a's proof of its key names the relay's certificate (the one a saw), so b refuses it
            # before any code exists: there is nothing to type and nothing counts against a.
            _, err = await asyncio.wait_for(proc.communicate(b""), 60)
            return proc.returncode or 0, err.decode()

    returncode, err = asyncio.run(scenario())
    assert returncode == 1
    assert "pairing failed" in err and "could not prove" in err
    assert not any("Pairing request from" in line for line in b.lines)
    assert a.trust() == [] and b.trust() == []


def _junk(rng: random.Random) -> str | bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 200))
    if kind == 1:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(0, 80)))
    if kind == 2:
        return json.dumps({"type": rng.choice(["nope", "reserve", "", "HELLO"]), "x": rng.random()})
    if kind == 3:
        return json.dumps({"type": "telemetry", "time": "now", "memory_total": -1})
    if kind == 4:
        return json.dumps(
            {
                "type": "hello",
                "protocol": 1,
                "app_version": "9",
                "llama_build": "x",
                "device_id": "d",
                "name": "n",
            }
        )
    if kind == 5:
        return json.dumps([1, 2, 3])
    if kind == 6:
        return "[" * rng.randrange(1, 5000)
    if kind == 7:
        return json.dumps({"type": "telemetry"})
    if kind == 8:
        return json.dumps({"type": "error", "code": 5, "message": None})
    return json.dumps({"type": "telemetry", **{f"k{i}": i for i in range(rng.randrange(50))}})


def _pair_junk(rng: random.Random, cert_pem: str) -> str | bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return json.dumps({"type": "confirm", "mac": "AAAA"})
    if kind == 1:
        return json.dumps({"type": "spake", "message": "AAAA"})
    if kind == 2:
        return json.dumps({"type": "pair_request", "version": 1, "name": "x", "cert_pem": "not a cert"})
    if kind == 3:
        return json.dumps({"type": "pair_request", "version": 99, "name": "x", "cert_pem": cert_pem})
    if kind == 4:
        return rng.randbytes(rng.randrange(1, 300))
    return _junk(rng)


def test_ten_thousand_malformed_messages_leave_the_node_serving_its_peers(node_pair) -> None:
    a, b = node_pair
    assert pair(b, a).returncode == 0
    assert wait_until(lambda: (b.device(a.device_id) or {}).get("connected"), 10)
    fuzzer = _identity("fuzzer")
    a_cert = (a.home / "config" / "device-cert.pem").read_text()
    rng = random.Random(1234)
    stats = {"control_sent": 0, "pair_sent": 0, "errors": 0, "closes": 0, "pair_refusals": 0}

    async def become_paired() -> None:
        mark = len(a.lines)
        attempt = await request_pairing(a.address, fuzzer)
        await attempt.finish(await asyncio.to_thread(a.code, mark))

    async def control_fuzz(total: int, at_once: int = 8) -> None:
        hello = control.Hello(control.PROTOCOL_VERSION, "0", "fuzz", fuzzer.device_id, "fuzzer")
        valid = wire.encode(control.Error("fuzz", "a valid message does not reset the count"))

        async def read(ws) -> None:
            try:
                async for _ in ws:
                    stats["errors"] += 1
            except ConnectionClosed:
                pass

        async def connection() -> None:
            chan = await dial(a.address, fuzzer, a_cert, a.device_id, hello)
            reader = asyncio.create_task(read(chan.ws))
            # Mostly four bad messages and one good one, now and then a burst of bad ones: either way
            # the node closes the connection at its fifth bad message, good ones in between or not.
            burst = rng.random() < 0.05
            try:
                for i in range(4 * control.MAX_BAD_MESSAGES):
                    if reader.done():
                        break
                    bad = burst or i % 5 != 4
                    await chan.ws.send(_junk(rng) if bad else valid)
                    stats["control_sent"] += bad
                    await asyncio.sleep(0.001)
            except ConnectionClosed:
                pass
            # The node closes it; this side never does.
            await asyncio.wait_for(reader, 10)
            stats["closes"] += 1

        async def loop() -> None:
            while stats["control_sent"] < total:
                await connection()

        await asyncio.gather(*(loop() for _ in range(at_once)))

    async def pairing_fuzz(total: int) -> None:
        sem = asyncio.Semaphore(8)

        async def one() -> None:
            async with sem, connect(f"wss://{a.address}/pair", ssl=tls.pairing_client_context()) as ws:
                await ws.send(_pair_junk(rng, fuzzer.cert_pem.decode()))
                stats["pair_sent"] += 1
                try:
                    reply = pairing.decode(await ws.recv())
                    stats["pair_refusals"] += isinstance(reply, pairing.PairResult) and not reply.ok
                except ConnectionClosed:
                    stats["pair_refusals"] += 1

        await asyncio.gather(*(one() for _ in range(total)))

    async def scenario() -> None:
        await become_paired()
        await asyncio.gather(control_fuzz(9600), pairing_fuzz(400))

    before = b.device(a.device_id)["telemetry_count"]
    asyncio.run(asyncio.wait_for(scenario(), 240))
    assert stats["control_sent"] + stats["pair_sent"] >= 10_000
    assert stats["errors"] > 1000, stats
    # Every connection was closed by the node, none kept open by its good messages.
    assert stats["errors"] <= stats["closes"] * (control.MAX_BAD_MESSAGES + 4), stats
    assert stats["pair_refusals"] == 400, stats
    assert a.alive()
    # The real peer was served throughout and still is.
    assert wait_until(lambda: b.device(a.device_id)["telemetry_count"] > before + 2, 10)
    assert (b.device(a.device_id) or {}).get("connected")
    assert a.cli("devices", "--json").returncode == 0


def test_unknown_paths_and_plain_http_get_nothing(node_pair) -> None:
    a, _ = node_pair

    async def scenario() -> tuple[int | None, bool]:
        async with connect(f"wss://{a.address}/admin", ssl=tls.pairing_client_context()) as ws:
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
        # /control without a client certificate: refused before any message.
        async with connect(f"wss://{a.address}/control", ssl=tls.pairing_client_context()) as ws:
            try:
                await ws.recv()
                got_message = True
            except ConnectionClosed:
                got_message = False
        return code, got_message

    code, got_message = asyncio.run(scenario())
    assert code == 4004
    assert not got_message
    assert a.alive()


if sys.platform != "linux":
    pytestmark = pytest.mark.skip(
        "uses 127.0.0.x addresses beyond 127.0.0.1, which only Linux routes by default"
    )


def test_local_api_refuses_out_of_range_numbers_and_keeps_serving(node_pair) -> None:
    a, _ = node_pair

    from hearth.api import local_messages as msg
    from hearth.api.local import LocalApiError
    from hearth.service.status import NodeStatus

    async def scenario() -> tuple[list[str], str, NodeStatus]:
        client = await open_local(a.home)
        try:
            errors = []
            # What no typed request can hold, sent as a script would write it.
            for bad in ({"max_memory": 1e400}, {"max_memory": -1}, {"threads": "8"}, {"threads": True}):
                answer = await client.exchange(json.dumps({"op": "donate", "enabled": True, **bad}))
                assert answer["ok"] is False, answer
                errors.append(answer["error"])
            answer = await client.exchange(json.dumps({"op": "plan"}))
            assert answer["ok"] is False, answer
            errors.append(answer["error"])
            # A refusal of a typed request reaches the caller as the node said it.
            with pytest.raises(LocalApiError) as info:
                await client.call(msg.PairCode(attempt=7, code="123456"))
            return errors, str(info.value), await client.call(msg.Status())
        finally:
            await client.close()

    errors, refused, status = asyncio.run(scenario())
    assert all("must be a whole number" in e for e in errors[:4]), errors
    assert errors[4] == "the request lacks 'model'"
    assert refused == "no pairing attempt 7 is open on this connection"
    assert status.donating is False
    assert not any("Traceback" in line for line in a.lines)


def test_a_copied_certificate_cannot_burn_the_real_requesters_code(node_pair) -> None:
    a, b = node_pair
    mallory = _identity("mallory")
    a_cert_pem = ssl.DER_cert_to_PEM_cert(_server_certificate(a.address))

    async def forged_request() -> str:
        async with connect(f"wss://{b.address}/pair", ssl=tls.pairing_client_context()) as ws:
            request = pairing.PairRequest(pairing.PAIRING_VERSION, "alpha", a_cert_pem)
            await ws.send(wire.encode(request))
            prove = pairing.decode(await ws.recv())
            assert isinstance(prove, pairing.PairProve)
            seen = pairing.fingerprint(_server_certificate(b.address))
            # The right statement, signed with a key that is not a's.
            forged = pairing.sign_proof(mallory.key_pem, pairing.proof_data(prove.nonce, seen))
            await ws.send(wire.encode(pairing.PairProof(forged)))
            result = pairing.decode(await ws.recv())
            assert isinstance(result, pairing.PairResult) and not result.ok
            return result.reason

    reasons: list[str] = []

    def attack() -> None:  # while a's request waits for its code
        reasons.extend(asyncio.run(forged_request()) for _ in range(5))

    result = pair(a, b, meanwhile=attack)
    assert len(reasons) == 5 and all("could not prove" in r for r in reasons), reasons
    assert result.returncode == 0, result.stderr
    assert [d["name"] for d in b.trust()] == ["alpha"]


def _server_certificate(address: str) -> bytes:
    host, _, port = address.rpartition(":")
    ctx = tls.pairing_client_context()
    with socket.create_connection((host, int(port)), timeout=10) as raw, ctx.wrap_socket(raw) as s:
        der = s.getpeercert(binary_form=True)
    assert der
    return der


def test_hundreds_of_abandoned_pairing_requests_cost_no_memory(node_pair) -> None:
    _, b = node_pair
    b_fingerprint = pairing.fingerprint(_server_certificate(b.address))
    identities = [_identity(f"x{i}") for i in range(250)]
    huge_name = "\x1b[2K" + "n" * 50_000

    async def abandon(identity: Identity, prove: bool) -> None:
        async with connect(f"wss://{b.address}/pair", ssl=tls.pairing_client_context(), max_size=2**20) as ws:
            request = pairing.PairRequest(pairing.PAIRING_VERSION, huge_name, identity.cert_pem.decode())
            await ws.send(wire.encode(request))
            challenge = pairing.decode(await ws.recv())
            if prove and isinstance(challenge, pairing.PairProve):
                data = pairing.proof_data(challenge.nonce, b_fingerprint)
                proof = pairing.PairProof(pairing.sign_proof(identity.key_pem, data))
                await ws.send(wire.encode(proof))
                await ws.recv()  # the code is shown on b; the requester walks away

    async def flood(start: int, count: int) -> None:
        for i in range(start, start + count):
            await abandon(identities[i % len(identities)], prove=i % 2 == 0)

    assert b.proc is not None
    node = psutil.Process(b.proc.pid)
    asyncio.run(flood(0, 100))  # warm up TLS, imports and allocator pools
    before = node.memory_info().rss
    asyncio.run(flood(100, 500))
    grown = node.memory_info().rss - before
    assert grown < 5 * 2**20, f"the node grew by {grown / 2**20:.1f} MiB"
    shown = [line for line in b.lines if "Pairing request from" in line]
    assert shown and all(len(line) < 400 and "\x1b" not in line for line in shown)
