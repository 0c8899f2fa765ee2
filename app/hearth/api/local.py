"""How the ``hearth`` commands talk to the node running on this machine.

A websocket on 127.0.0.1 with a random bearer token that only this user can read (``node.json`` in the
state directory, mode 0600). Requests and answers are small JSON objects with an ``op``.
"""

from __future__ import annotations

import contextlib
import http
import itertools
import json
import os
import secrets
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.http11 import Request, Response

from hearth.core.errors import HearthError
from hearth.core.planner import DeviceSpec, Prediction
from hearth.core.profile import ModelProfile, default_context, read_profile
from hearth.mesh.pairing_client import PairingAttempt
from hearth.mesh.pool import PoolSession, open_pool
from hearth.service.node import Node
from hearth.service.planning import choose_plan, named_specs, plan_report, planning_devices
from hearth.store import paths

STATE_FILE = "node.json"


class LocalApiError(HearthError):
    pass


def _count(value: object, what: str, limit: int) -> int:
    """A whole number from 0 to ``limit``; anything else (1e400, "8G", true, -1) is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError(f"{what} must be a whole number from 0 to {limit}")
    return value


def _state_path() -> Path:
    return paths.state_dir() / STATE_FILE


class LocalApi:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.token = secrets.token_urlsafe(32)
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._authorize, server_header=None
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        data = json.dumps(
            {"port": port, "token": self.token, "pid": os.getpid(), "device_id": self.node.identity.device_id}
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
                    request = json.loads(raw)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                    answer = await self._dispatch(request, conn)
                except KeyError as exc:
                    answer = {"ok": False, "error": f"the request lacks {exc.args[0]!r}"}
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
            # What a client opened lives as long as its connection: a crashed chat frees its workers.
            for attempt in conn.attempts.values():
                await attempt.close()
            if conn.pool is not None:
                await conn.pool.close(self.node)

    async def _dispatch(self, request: dict[str, Any], conn: _Connection) -> dict[str, Any]:
        attempts, ids = conn.attempts, conn.ids
        op = request.get("op")
        node = self.node
        if op == "status":
            from hearth.engine.rpc import rdma_compiled

            ident = node.identity
            return {
                "ok": True,
                "device_id": ident.device_id,
                "short_id": ident.short_id,
                "name": ident.name,
                "port": node.port,
                "key_warning": ident.key_warning,
                "donating": node.donation.enabled,
                "donated_bytes": node.donated_bytes,
                "tunnel_port": node.workers.tunnel_port,
                "rdma_compiled": rdma_compiled(),
                "workers": [
                    {
                        "host_id": r.host_id,
                        "threads": r.threads,
                        "rpc_connections": r.rpc_connections,
                        "port": r.worker.port,
                        "exposed": r.worker.exposed,
                    }
                    for r in node.workers.reservations.values()
                ],
            }
        if op == "devices":
            return {"ok": True, "devices": msgspec.to_builtins(node.devices())}
        if op == "pair":
            attempt = await node.request_pairing(str(request["device"]))
            attempt_id = next(ids)
            attempts[attempt_id] = attempt
            return {
                "ok": True,
                "attempt": attempt_id,
                "peer_name": attempt.peer_name,
                "peer_id": attempt.peer_id,
            }
        if op == "pair_code":
            attempt_id = int(request["attempt"])
            if attempt_id not in attempts:
                return {"ok": False, "error": f"no pairing attempt {attempt_id} is open on this connection"}
            attempt = attempts.pop(attempt_id)
            await attempt.finish(str(request["code"]))
            device = node.accept_attempt(attempt)
            return {"ok": True, "device_id": device.device_id, "name": device.name}
        if op == "add":
            neighbour = await node.add_address(str(request["address"]))
            return {"ok": True, "device_id": neighbour.device_id, "name": neighbour.name}
        if op == "forget":
            forgotten = node.forget(str(request["device"]))
            if forgotten is None:
                return {"ok": False, "error": f"no paired device called '{request['device']}'"}
            return {"ok": True, "device_id": forgotten.device_id, "name": forgotten.name}
        if op == "plan":
            profile = read_profile(str(request["model"]))
            pred, host, remotes = self._choose(profile, request)
            return {"ok": True, **plan_report(pred, host, remotes)}
        if op == "pool":
            return await self._pool(request, conn)
        if op == "pool_failures":
            return {"ok": True, "failures": conn.pool.failures(node) if conn.pool else []}
        if op == "donate":
            changes: dict[str, Any] = {"enabled": bool(request["enabled"])}
            if request.get("max_memory") is not None:
                changes["max_memory"] = _count(request["max_memory"], "max_memory", 2**60)
            if request.get("threads") is not None:
                changes["threads"] = _count(request["threads"], "threads", 4096)
            donation = await node.set_donation(**changes)
            return {"ok": True, "enabled": donation.enabled, "donated_bytes": node.donated_bytes}
        return {"ok": False, "error": f"unknown op {op!r}"}

    async def _pool(self, request: dict[str, Any], conn: _Connection) -> dict[str, Any]:
        node = self.node
        if conn.pool is not None:
            await conn.pool.close(node)
            conn.pool = None
        profile = read_profile(str(request["model"]))
        plan = self._choose(profile, request)[0].plan
        conn.pool = await open_pool(
            node, profile, plan, self._n_ctx(profile, request), str(request.get("cache_type", "f16"))
        )
        n_gpu_layers, split = plan.llama_params()
        return {
            "ok": True,
            "plan": str(plan),
            "endpoints": conn.pool.endpoints,
            "devices": [m.name for m in conn.pool.members],
            "n_gpu_layers": n_gpu_layers,
            "tensor_split": split,
        }

    @staticmethod
    def _n_ctx(profile: ModelProfile, request: dict[str, Any]) -> int:
        n_ctx = request.get("n_ctx")
        return default_context(profile) if n_ctx is None else max(1, _count(n_ctx, "n_ctx", 2**24))

    def _choose(
        self, profile: ModelProfile, request: dict[str, Any]
    ) -> tuple[Prediction, DeviceSpec, list[DeviceSpec]]:
        """The same choice for `hearth plan` and for a pool: the plan named, or the planner's best
        over the devices as this node sees them now."""
        host, remotes = named_specs(planning_devices(self.node.devices()))
        plan_text = request.get("plan")
        n_ctx = self._n_ctx(profile, request)
        pred = choose_plan(
            profile, host, remotes, n_ctx, str(plan_text) if plan_text else None, self.node.is_me
        )
        return pred, host, remotes


class _Connection:
    def __init__(self) -> None:
        self.attempts: dict[int, PairingAttempt] = {}
        self.ids = itertools.count(1)
        self.pool: PoolSession | None = None


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
