"""How the ``hearth`` commands talk to the node running on this machine.

A websocket on 127.0.0.1. The node writes its port and a random key, new each time it starts, to
``node.json`` in the state directory (mode 0600, in a 0700 folder: only this user can read it). Before
a command says anything, the node proves that it holds the key, and then the command does: a stale
``node.json`` left by a node that crashed may point at a port another program took since, and that
program must learn nothing (no key, no request) and must not be able to answer as the node.
Requests and answers are small JSON objects with an ``op`` (``local_messages`` lists them, each
request with the type of its answer); each op is one call into the service the window uses too. The
client sends typed requests and decodes each answer into its type.

Why a challenge over the key rather than something of the operating system's: a Unix socket in the
private state folder would do on Linux and macOS, but asyncio on Windows serves none, so Windows would
need a second, differently secured transport; asking who owns the listening port needs other users'
process tables, which macOS shows only to root and Linux hides with ``hidepid``, and it would prove
only the owner, not that the listener is this node. The challenge needs nothing but the 0600 file,
is the same code on all three systems, proves the listener is the node that wrote the file, and the
key itself never crosses the socket (HMAC-SHA256 over fresh nonces from both sides, so no answer can
be replayed).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import http
import itertools
import json
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.http11 import Request, Response

from hearth.api import local_messages as msg
from hearth.core.errors import HearthError
from hearth.core.plan import split_key
from hearth.service.devices import PairingAttempt
from hearth.service.planning import PlanReport, named_specs
from hearth.service.pools import Pool
from hearth.service.status import DonationStatus, NodeStatus
from hearth.service.storage import state_dir

if TYPE_CHECKING:
    # Only the node serves the API; the CLI's client should not import the whole application.
    from hearth.service.root import Hearth

STATE_FILE = "node.json"
# The nonce each side sends in the websocket handshake, and the node's proof of the key, in its answer.
CHALLENGE_HEADER = "X-Hearth-Challenge"
PROOF_HEADER = "X-Hearth-Proof"
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_NODE_PROVES = b"hearth local api: the node"
_CLIENT_PROVES = b"hearth local api: the client"
# How long a connection may take to prove the key before the node closes it.
PROOF_TIMEOUT_S = 5.0
OPEN_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
# The longest integer a request may hold, in digits: every field's own bounds are far below it, and
# the JSON parser is stopped before it turns thousands of digits into a number.
MAX_INT_DIGITS = 20
A = TypeVar("A")


class LocalApiError(HearthError):
    pass


def _state_path() -> Path:
    return state_dir() / STATE_FILE


def _proof(key: bytes, who: bytes, first: str, second: str) -> str:
    """What knowing ``key`` lets ``who`` answer to the two nonces, in this order."""
    mac = hmac.new(key, who + b"\0" + first.encode() + b"\0" + second.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number in the request is too large ({len(digits)} digits)")
    return int(digits)


def parse_request(raw: str | bytes) -> object:
    """A request's JSON, or ValueError that names what is wrong with it."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValueError("the request is not UTF-8 text") from None
    try:
        return json.loads(text, parse_int=_whole_number)
    except RecursionError:
        raise ValueError("the request nests arrays or objects too deep to read") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the request is not JSON: {exc}") from None


class _Connection:
    """What one client opened: it lives as long as the connection, so a crashed chat frees its workers."""

    def __init__(self) -> None:
        self.attempts: dict[int, PairingAttempt] = {}
        self.ids = itertools.count(1)
        self.pool: Pool | None = None


Handler = Callable[["LocalApi", Any, _Connection], Awaitable[msgspec.Struct]]


class LocalApi:
    """The service, op by op, for the ``hearth`` commands and scripts on this machine."""

    def __init__(self, services: Hearth) -> None:
        self.services = services
        self._key = secrets.token_bytes(32)
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._challenged,
            process_response=self._prove,
            server_header=None,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        data = json.dumps(
            {
                "port": port,
                "key": base64.urlsafe_b64encode(self._key).decode(),
                "pid": os.getpid(),
                "device_id": self.services.devices.status().device_id,
            }
        )
        path = _state_path()
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.replace(path.with_suffix(".tmp"), path)

    async def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            _state_path().unlink()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _challenged(self, connection: ServerConnection, request: Request) -> Response | None:
        if not _NONCE.fullmatch(request.headers.get(CHALLENGE_HEADER, "")):
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "no challenge\n")
        return None

    def _prove(self, connection: ServerConnection, request: Request, response: Response) -> None:
        """The node's half: a nonce of its own, and its answer to the client's."""
        if response.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return
        nonce = secrets.token_urlsafe(32)
        response.headers[CHALLENGE_HEADER] = nonce
        response.headers[PROOF_HEADER] = _proof(
            self._key, _NODE_PROVES, request.headers[CHALLENGE_HEADER], nonce
        )

    async def _client_proved(self, ws: ServerConnection) -> bool:
        """The client's half: its first message answers the node's nonce."""
        assert ws.request is not None and ws.response is not None
        expected = _proof(
            self._key,
            _CLIENT_PROVES,
            ws.response.headers[CHALLENGE_HEADER],
            ws.request.headers[CHALLENGE_HEADER],
        )
        try:
            async with asyncio.timeout(PROOF_TIMEOUT_S):
                said = parse_request(await ws.recv())
        except (TimeoutError, ConnectionClosed, ValueError):
            return False
        proof = said.get("proof") if isinstance(said, dict) else None
        if not isinstance(proof, str) or not _same(proof, expected):
            return False
        await ws.send(json.dumps({"ok": True}))
        return True

    async def _handle(self, ws: ServerConnection) -> None:
        if not await self._client_proved(ws):
            await ws.close(1008, "the key was not proven")
            return
        conn = _Connection()
        try:
            async for raw in ws:
                try:
                    answer = {"ok": True, **msgspec.to_builtins(await self._dispatch(raw, conn))}
                except (HearthError, ValueError, TypeError) as exc:
                    answer = {"ok": False, "error": str(exc)}
                except (ConnectionError, TimeoutError, OSError) as exc:
                    # A peer that vanished mid-request: the answer says so, the node carries on.
                    reason = str(exc) or type(exc).__name__
                    answer = {"ok": False, "error": f"a device stopped answering: {reason}"}
                await ws.send(json.dumps(answer))
        except ConnectionClosed:
            pass
        finally:
            for attempt in conn.attempts.values():
                await attempt.close()
            if conn.pool is not None:
                await self.services.reservations.release(conn.pool)

    async def _dispatch(self, raw: str | bytes, conn: _Connection) -> msgspec.Struct:
        # The standard parser, not msgspec's, so that numbers such as 1e400 arrive and are refused by name.
        request = parse_request(raw)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        op = request.pop("op", None)
        if not isinstance(op, str) or op not in _OPS:
            raise ValueError(f"unknown op {op!r}")
        kind, handler = _OPS[op]
        try:
            args = msgspec.convert(request, kind, strict=True)
        except msgspec.ValidationError as exc:
            raise ValueError(msg.explain(exc, kind)) from None
        return await handler(self, args, conn)

    async def _status(self, _: msg.Status, conn: _Connection) -> NodeStatus:
        return self.services.devices.status()

    async def _devices(self, _: msg.Devices, conn: _Connection) -> msg.DevicesAnswer:
        return msg.DevicesAnswer(self.services.devices.listed())

    async def _pair(self, request: msg.Pair, conn: _Connection) -> msg.PairStarted:
        attempt = await self.services.devices.pair(request.device)
        attempt_id = next(conn.ids)
        conn.attempts[attempt_id] = attempt
        return msg.PairStarted(attempt_id, attempt.peer_name, attempt.peer_id)

    async def _pair_code(self, request: msg.PairCode, conn: _Connection) -> msg.DeviceNamed:
        attempt = conn.attempts.pop(request.attempt, None)
        if attempt is None:
            raise LocalApiError(f"no pairing attempt {request.attempt} is open on this connection")
        device = await self.services.devices.finish_pairing(attempt, request.code)
        return msg.DeviceNamed(device.device_id, device.name)

    async def _add(self, request: msg.Add, conn: _Connection) -> msg.DeviceNamed:
        neighbour = await self.services.devices.add_address(request.address)
        return msg.DeviceNamed(neighbour.device_id, neighbour.name)

    async def _forget(self, request: msg.Forget, conn: _Connection) -> msg.DeviceNamed:
        device = self.services.devices.forget(request.device)
        return msg.DeviceNamed(device.device_id, device.name)

    async def _plan(self, request: msg.PlanRequest, conn: _Connection) -> PlanReport:
        return (await self.services.plans.choose(request.model, request.n_ctx, request.plan)).report()

    async def _pool(self, request: msg.Pool, conn: _Connection) -> msg.PoolAnswer:
        if conn.pool is not None:
            await self.services.reservations.release(conn.pool)
            conn.pool = None
        choice = await self.services.plans.choose(request.model, request.n_ctx, request.plan)
        plan = choice.prediction.plan
        conn.pool = await self.services.reservations.reserve(
            choice.profile, plan, choice.n_ctx, request.cache_type
        )
        n_gpu_layers, split = plan.llama_params()
        gpus = [i for a in plan.host_accelerators if a.count and (i := split_key(a.device)[1]) is not None]
        return msg.PoolAnswer(
            str(plan), conn.pool.endpoints, conn.pool.devices, n_gpu_layers, split, gpus, plan.rpc_targets()
        )

    async def _pool_failures(self, _: msg.PoolFailures, conn: _Connection) -> msg.Failures:
        return msg.Failures(self.services.reservations.failures(conn.pool) if conn.pool else [])

    async def _planning_devices(
        self, _: msg.PlanningDevicesRequest, conn: _Connection
    ) -> msg.PlanningDevices:
        host, remotes = named_specs(self.services.plans.devices())
        return msg.PlanningDevices(host, remotes)

    async def _donate(self, request: msg.Donate, conn: _Connection) -> DonationStatus:
        return await self.services.donation.donate(
            request.enabled, request.max_memory, request.threads, request.max_vram
        )


_HANDLERS: list[tuple[type[msg.Request[Any]], Handler]] = [
    (msg.Status, LocalApi._status),
    (msg.Devices, LocalApi._devices),
    (msg.Pair, LocalApi._pair),
    (msg.PairCode, LocalApi._pair_code),
    (msg.Add, LocalApi._add),
    (msg.Forget, LocalApi._forget),
    (msg.PlanRequest, LocalApi._plan),
    (msg.Pool, LocalApi._pool),
    (msg.PoolFailures, LocalApi._pool_failures),
    (msg.Donate, LocalApi._donate),
    (msg.PlanningDevicesRequest, LocalApi._planning_devices),
]
_OPS: dict[str, tuple[type[msg.Request[Any]], Handler]] = {kind.op: (kind, h) for kind, h in _HANDLERS}


class LocalClient:
    """A connection to the node running on this machine."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    @classmethod
    async def open(cls) -> LocalClient:
        """A connection to this user's node, once it proved it holds the key in ``node.json``; until
        then nothing is sent but a nonce."""
        path = _state_path()
        not_running = LocalApiError("no Hearth node is running here; start one with `hearth node`")
        try:
            state = json.loads(path.read_text())
            port, key = int(state["port"]), base64.urlsafe_b64decode(state["key"])
        except (OSError, ValueError, KeyError, TypeError):
            raise not_running from None
        impostor = LocalApiError(
            f"the program at 127.0.0.1:{port}, where {path} says this user's Hearth node listens, is not "
            "that node (it could not prove it holds the node's key), so Hearth told it nothing. The node "
            "that wrote the file has ended; start it again with `hearth node` or the window."
        )
        nonce = secrets.token_urlsafe(32)
        try:
            ws = await connect(
                f"ws://127.0.0.1:{port}",
                additional_headers={CHALLENGE_HEADER: nonce},
                open_timeout=OPEN_TIMEOUT_S,
                close_timeout=CLOSE_TIMEOUT_S,  # a program that is not the node is not waited on long
            )
        except ConnectionRefusedError:
            raise not_running from None
        except (OSError, InvalidHandshake, TimeoutError):
            raise impostor from None
        headers = ws.response.headers if ws.response is not None else None
        theirs = headers.get(CHALLENGE_HEADER, "") if headers else ""
        proof = headers.get(PROOF_HEADER, "") if headers else ""
        if not _NONCE.fullmatch(theirs) or not _same(proof, _proof(key, _NODE_PROVES, nonce, theirs)):
            with contextlib.suppress(Exception):
                await ws.close()
            raise impostor
        client = cls(ws)
        try:
            accepted = await client.exchange(
                json.dumps({"proof": _proof(key, _CLIENT_PROVES, theirs, nonce)})
            )
        except LocalApiError:
            accepted = {}
        if accepted.get("ok") is not True:
            await client.close()
            raise not_running  # the node ended meanwhile
        return client

    async def exchange(self, request: str | bytes) -> dict[str, Any]:
        """Send one request as it is and return the node's answer, whether it succeeded or not."""
        try:
            await self._ws.send(request)
            answer = json.loads(await self._ws.recv())
        except ConnectionClosed:
            raise LocalApiError("the node closed the connection") from None
        except ValueError:
            raise LocalApiError("the node's answer is not JSON") from None
        if not isinstance(answer, dict):
            raise LocalApiError("bad answer")
        return dict(answer)

    async def call(self, request: msg.Request[A]) -> A:
        """Send ``request`` and return the node's answer as the type that answers it; LocalApiError
        with the node's own words when it refuses or fails."""
        answer = await self.exchange(msg.encode(request))
        if not answer.pop("ok", False):
            raise LocalApiError(str(answer.get("error", "failed")))
        try:
            return msgspec.convert(answer, msg.answer_type(type(request)))
        except msgspec.ValidationError as exc:
            raise LocalApiError(f"the node's answer to {request.op!r} is malformed: {exc}") from None

    async def close(self) -> None:
        await self._ws.close()

    @classmethod
    async def once(cls, request: msg.Request[A]) -> A:
        """One request to the node on a connection of its own."""
        client = await cls.open()
        try:
            return await client.call(request)
        finally:
            await client.close()
