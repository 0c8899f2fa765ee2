"""How the ``hearth`` commands talk to the node running on this machine.

A websocket on 127.0.0.1 with a random bearer token that only this user can read (``node.json`` in the
state directory, mode 0600). Requests and answers are small JSON objects with an ``op``
(``local_messages`` lists them); each op is one call into the service the window uses too.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.http11 import Request, Response

from hearth.api import local_messages as msg
from hearth.core.errors import HearthError
from hearth.mesh.pairing_client import PairingAttempt
from hearth.mesh.pool import PoolSession
from hearth.service.app import Services
from hearth.service.planning import named_specs
from hearth.store import paths

STATE_FILE = "node.json"


class LocalApiError(HearthError):
    pass


def _state_path() -> Path:
    return paths.state_dir() / STATE_FILE


class _Connection:
    """What one client opened: it lives as long as the connection, so a crashed chat frees its workers."""

    def __init__(self) -> None:
        self.attempts: dict[int, PairingAttempt] = {}
        self.ids = itertools.count(1)
        self.pool: PoolSession | None = None


Handler = Callable[["LocalApi", Any, _Connection], Awaitable[msgspec.Struct]]


class LocalApi:
    """The service, op by op, for the ``hearth`` commands and scripts on this machine."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.token = secrets.token_urlsafe(32)
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._authorize, server_header=None
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        data = json.dumps(
            {
                "port": port,
                "token": self.token,
                "pid": os.getpid(),
                "device_id": self.services.node.identity.device_id,
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

    def _authorize(self, connection: ServerConnection, request: Request) -> Response | None:
        if not secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {self.token}"):
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong token\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
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
                await self.services.release(conn.pool)

    async def _dispatch(self, raw: str | bytes, conn: _Connection) -> msgspec.Struct:
        # The standard parser, not msgspec's, so that numbers such as 1e400 arrive and are refused by name.
        request = json.loads(raw)
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

    async def _status(self, _: msg.Status, conn: _Connection) -> msgspec.Struct:
        return self.services.status()

    async def _devices(self, _: msg.Devices, conn: _Connection) -> msgspec.Struct:
        return msg.DevicesAnswer(self.services.devices())

    async def _pair(self, request: msg.Pair, conn: _Connection) -> msgspec.Struct:
        attempt = await self.services.pair(request.device)
        attempt_id = next(conn.ids)
        conn.attempts[attempt_id] = attempt
        return msg.PairStarted(attempt_id, attempt.peer_name, attempt.peer_id)

    async def _pair_code(self, request: msg.PairCode, conn: _Connection) -> msgspec.Struct:
        attempt = conn.attempts.pop(request.attempt, None)
        if attempt is None:
            raise LocalApiError(f"no pairing attempt {request.attempt} is open on this connection")
        device = await self.services.finish_pairing(attempt, request.code)
        return msg.DeviceNamed(device.device_id, device.name)

    async def _add(self, request: msg.Add, conn: _Connection) -> msgspec.Struct:
        neighbour = await self.services.add_address(request.address)
        return msg.DeviceNamed(neighbour.device_id, neighbour.name)

    async def _forget(self, request: msg.Forget, conn: _Connection) -> msgspec.Struct:
        device = self.services.forget(request.device)
        return msg.DeviceNamed(device.device_id, device.name)

    async def _plan(self, request: msg.PlanRequest, conn: _Connection) -> msgspec.Struct:
        return (await self.services.choose(request.model, request.n_ctx, request.plan)).report()

    async def _pool(self, request: msg.Pool, conn: _Connection) -> msgspec.Struct:
        if conn.pool is not None:
            await self.services.release(conn.pool)
            conn.pool = None
        choice = await self.services.choose(request.model, request.n_ctx, request.plan)
        conn.pool = await self.services.reserve(choice, request.cache_type)
        plan = conn.pool.plan
        n_gpu_layers, split = plan.llama_params()
        devices = [m.name for m in conn.pool.members]
        return msg.PoolAnswer(str(plan), conn.pool.endpoints, devices, n_gpu_layers, split)

    async def _pool_failures(self, _: msg.PoolFailures, conn: _Connection) -> msgspec.Struct:
        return msg.Failures(self.services.failures(conn.pool) if conn.pool else [])

    async def _planning_devices(self, _: msg.PlanningDevicesRequest, conn: _Connection) -> msgspec.Struct:
        host, remotes = named_specs(self.services.planning_devices())
        return msg.PlanningDevices(host, remotes)

    async def _donate(self, request: msg.Donate, conn: _Connection) -> msgspec.Struct:
        return await self.services.donate(request.enabled, request.max_memory, request.threads)


_OPS: dict[str, tuple[type[msg.Request], Handler]] = {
    "status": (msg.Status, LocalApi._status),
    "devices": (msg.Devices, LocalApi._devices),
    "pair": (msg.Pair, LocalApi._pair),
    "pair_code": (msg.PairCode, LocalApi._pair_code),
    "add": (msg.Add, LocalApi._add),
    "forget": (msg.Forget, LocalApi._forget),
    "plan": (msg.PlanRequest, LocalApi._plan),
    "pool": (msg.Pool, LocalApi._pool),
    "pool_failures": (msg.PoolFailures, LocalApi._pool_failures),
    "donate": (msg.Donate, LocalApi._donate),
    "planning_devices": (msg.PlanningDevicesRequest, LocalApi._planning_devices),
}


class LocalClient:
    """A connection to the node running on this machine."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    @classmethod
    async def open(cls) -> LocalClient:
        try:
            state = json.loads(_state_path().read_text())
            ws = await connect(
                f"ws://127.0.0.1:{int(state['port'])}",
                additional_headers={"Authorization": f"Bearer {state['token']}"},
                open_timeout=5,
            )
        except (FileNotFoundError, OSError, ValueError, KeyError, InvalidHandshake, TimeoutError):
            raise LocalApiError("no Hearth node is running here; start one with `hearth node`") from None
        return cls(ws)

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        try:
            await self._ws.send(json.dumps({"op": op, **args}))
            answer = json.loads(await self._ws.recv())
        except ConnectionClosed:
            raise LocalApiError("the node closed the connection") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise LocalApiError(answer.get("error", "failed") if isinstance(answer, dict) else "bad answer")
        return dict(answer)

    async def close(self) -> None:
        await self._ws.close()

    @classmethod
    async def once(cls, op: str, **args: Any) -> dict[str, Any]:
        """One request to the node on a connection of its own."""
        client = await cls.open()
        try:
            return await client.call(op, **args)
        finally:
            await client.close()
