"""The embedding engine process, seen from the asyncio side.

One request runs at a time. When the process dies, whatever waits on it gets ``EngineDied`` at once
(its pipe closes), and the next load starts a fresh process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from pathlib import Path

import msgspec

from hearth.core.launch import module_command
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest, EngineDied, NoModelLoaded, from_failure
from hearth.store import paths

READY_TIMEOUT_S = 60.0
# How long a request whose caller went away may take to finish before the process is ended for it.
DRAIN_S = 2.0


class EmbeddingClient:
    """Start, load, embed with and unload one embedding model in a child process."""

    def __init__(self, log_path: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path or paths.logs_dir() / "embedding.log"
        self._env = env
        self._proc: asyncio.subprocess.Process | None = None
        self._events: asyncio.Queue[m.EmbedEvent | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self.loaded: m.Loaded | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    async def _start(self) -> None:
        if self.running:
            return
        await self.kill()
        log = paths.open_log(self.log_path)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *module_command("hearth.engine.embedding_process"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=self._env,
            )
        finally:
            os.close(log)
        self._events = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(self._proc, self._events))
        try:
            event = await asyncio.wait_for(self._next(), READY_TIMEOUT_S)
        except TimeoutError:
            await self.kill()
            raise EngineDied(f"the embedding engine did not start within {READY_TIMEOUT_S:.0f} s") from None
        if not isinstance(event, m.Ready):
            await self.kill()
            raise EngineDied("the embedding engine did not start as expected (it spoke before its hello)")

    async def _read(
        self, proc: asyncio.subprocess.Process, events: asyncio.Queue[m.EmbedEvent | None]
    ) -> None:
        assert proc.stdout is not None
        try:
            while True:
                prefix = await proc.stdout.readexactly(4)
                body = await proc.stdout.readexactly(m.frame_length(prefix))
                events.put_nowait(m.decode_embed_event(body))
        except (asyncio.IncompleteReadError, ConnectionError, m.ProtocolError):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        events.put_nowait(None)  # the process is gone: whoever waits learns it at once

    async def _next(self) -> m.EmbedEvent:
        event = await self._events.get()
        if event is None:
            self._events.put_nowait(None)  # for anyone else still waiting on this process
            self.loaded = None
            code = self._proc.returncode if self._proc is not None else None
            status = "" if code is None else f" (status {code})"
            raise EngineDied(f"the embedding engine stopped{status}; its log is {self.log_path}")
        return event

    def _send(self, request: m.EmbedRequest) -> None:
        if not self.running or self._proc is None or self._proc.stdin is None:
            raise EngineDied("the embedding engine is not running")
        try:
            frame = m.encode_embed(request)
        except (OverflowError, TypeError, msgspec.EncodeError) as exc:
            raise BadRequest(f"the request cannot be sent to the embedding engine: {exc}") from None
        if len(frame) - 4 > m.MAX_FRAME:
            raise BadRequest(f"the inputs are too large to embed at once (at most {m.MAX_FRAME} bytes)")
        try:
            self._proc.stdin.write(frame)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise EngineDied(f"the embedding engine is gone ({exc})") from None

    async def _ask(self, request: m.EmbedRequest) -> m.EmbedEvent:
        """Send ``request`` and wait for its answer; a caller that gives up leaves the process clean."""
        self._send(request)
        try:
            event = await self._next()
        except asyncio.CancelledError:
            await asyncio.shield(self._drain())
            raise
        if isinstance(event, m.Failure):
            raise from_failure(event.kind, event.message)
        return event

    async def _drain(self) -> None:
        try:
            await asyncio.wait_for(self._next(), DRAIN_S)
        except (TimeoutError, EngineDied):
            await self.kill()

    async def load(self, request: m.LoadModel) -> m.Loaded:
        """Load a model in place of any other."""
        async with self._lock:
            await self._start()
            self.loaded = None
            event = await self._ask(request)
            if not isinstance(event, m.Loaded):
                raise EngineDied(f"the embedding engine answered a load with {type(event).__name__}")
            self.loaded = event
            return event

    async def embed(self, request: m.Embed) -> m.Embedded:
        async with self._lock:
            if not self.running:
                raise EngineDied("the embedding engine is not running")
            if self.loaded is None:
                raise NoModelLoaded("no embedding model is loaded: load one first")
            event = await self._ask(msgspec.structs.replace(request, request_id=next(self._ids)))
            if not isinstance(event, m.Embedded):
                raise EngineDied(f"the embedding engine answered with {type(event).__name__}")
            return event

    async def unload(self) -> None:
        async with self._lock:
            self.loaded = None
            if self.running:
                await self._ask(m.Unload())

    async def kill(self) -> None:
        """End the process at once; the next load starts a new one."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        if self._proc is not None:
            await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._reader = None
        self.loaded = None

    async def close(self) -> None:
        """Shut the process down, politely first."""
        if self.running and self._proc is not None:
            with contextlib.suppress(EngineDied):
                self._send(m.Shutdown())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._proc.wait(), 5.0)
        await self.kill()
