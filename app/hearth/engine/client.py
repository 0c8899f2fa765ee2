"""The supervised engine process, seen from the asyncio side.

Loads, unloads and estimates run one at a time, never while an answer is under way; answers run as
many at once as the caller sends (the engine decodes as many together as the model was loaded for and
holds the rest in arrival order). Each answer's events are routed to it by request ID, so cancelling
one, or its caller going away, ends that answer alone. When the process dies, whatever waits on it gets
``EngineDied`` at once (the pipe closes; nothing polls), and the next request starts a fresh process
and reloads the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from hearth.core.launch import module_command
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest, NoModelLoaded, from_failure
from hearth.engine.errors import EngineDied as EngineDied
from hearth.engine.errors import EngineError as EngineError
from hearth.engine.errors import PromptTooLong as PromptTooLong
from hearth.store import paths

READY_TIMEOUT_S = 60.0
# How long a Cancel may take before the process is killed instead: llama.cpp cannot be interrupted
# inside one long prompt evaluation, and the user asked for it to stop now.
CANCEL_GRACE_S = 0.8


class _Exit:
    def __init__(self, message: str) -> None:
        self.message = message


class _Abandon:
    """Put in an answer's route when it was stopped but the engine has not yet confirmed it."""


_ABANDON = _Abandon()


class _Route:
    """Where one answer's events go, and the task awaiting it."""

    def __init__(self, task: asyncio.Task[object] | None) -> None:
        self.events: asyncio.Queue[m.Event | _Exit | _Abandon] = asyncio.Queue()
        self.task = task
        self.ended = asyncio.Event()
        self.killed_for_cancel = False


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the engine process closed its output"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the engine process was killed by {name}"
    if code == 134:
        return "the engine process aborted (llama.cpp failure, exit 134)"
    return f"the engine process exited with status {code}"


def _log_tail(path: Path, max_bytes: int = 4096) -> str:
    with contextlib.suppress(OSError), path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - max_bytes))
        lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        if lines:
            return lines[-1]
    return ""


class EngineClient:
    """Start, load, stream, cancel and unload a model in a child process."""

    def __init__(self, log_path: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path or paths.logs_dir() / "engine.log"
        self._env = env
        self._proc: asyncio.subprocess.Process | None = None
        self._events: asyncio.Queue[m.Event | _Exit] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._routes: dict[int, _Route] = {}
        self._no_answers = asyncio.Event()  # set while no answer is under way
        self._no_answers.set()
        self._want: m.LoadModel | None = None
        self.ready: m.Ready | None = None
        self.loaded: m.Loaded | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def active_request(self) -> int | None:
        """The ID of the oldest answer under way; None when none is."""
        return min(self._routes, default=None)

    @property
    def answering(self) -> int:
        """How many answers are under way (being decoded, or waiting in the engine for a place)."""
        return len(self._routes)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    async def start(self) -> m.Ready:
        """Start the process if it is not running; returns its hello."""
        if self.running and self.ready:
            return self.ready
        await self._reap()
        log = paths.open_log(self.log_path)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *module_command("hearth.engine.process"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=self._env,
            )
        finally:
            os.close(log)
        self._events = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(self._proc, self._events, self._routes))
        try:
            event = await asyncio.wait_for(self._next(), READY_TIMEOUT_S)
        except TimeoutError:
            await self.kill()
            raise EngineDied(f"the engine process did not start within {READY_TIMEOUT_S:.0f} s") from None
        if not isinstance(event, m.Ready):
            await self.kill()
            raise EngineDied("the engine process did not start as expected (it spoke before its hello)")
        self.ready = event
        self.loaded = None
        return event

    async def _read(
        self,
        proc: asyncio.subprocess.Process,
        events: asyncio.Queue[m.Event | _Exit],
        routes: dict[int, _Route],
    ) -> None:
        assert proc.stdout is not None
        reason = ""
        try:
            while True:
                prefix = await proc.stdout.readexactly(4)
                body = await proc.stdout.readexactly(m.frame_length(prefix))
                event = m.decode_event(body)
                request_id = getattr(event, "request_id", None)
                if isinstance(event, m.Token | m.Done) or (isinstance(event, m.Failure) and request_id):
                    route = routes.get(request_id) if request_id is not None else None
                    # An answer nobody waits for any more (its caller left) is dropped.
                    if route is not None:
                        route.events.put_nowait(event)
                    continue
                events.put_nowait(event)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except m.ProtocolError as exc:
            reason = f" after a malformed message ({exc})"
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        code = await proc.wait()
        detail = _log_tail(self.log_path)
        quiet = code in (0, -signal.SIGKILL, -signal.SIGTERM, -signal.SIGINT)
        message = (
            _describe_exit(code) + reason + (f"; last log line: {detail}" if detail and not quiet else "")
        )
        events.put_nowait(_Exit(message))
        for route in list(routes.values()):
            route.events.put_nowait(_Exit(message))

    async def _next(self) -> m.Event:
        assert self._events is not None
        event = await self._events.get()
        if isinstance(event, _Exit):
            # Keep the marker for anyone else still waiting on this process.
            self._events.put_nowait(event)
            self.ready = None
            self.loaded = None
            raise EngineDied(event.message)
        return event

    def _send(self, request: m.Request) -> None:
        if not self.running or self._proc is None or self._proc.stdin is None:
            raise EngineDied("the engine process is not running")
        try:
            frame = m.encode(request)
        except (OverflowError, TypeError, msgspec.EncodeError) as exc:
            # A value its messages cannot carry (an integer past 64 bits): this request fails, the
            # engine carries on.
            raise BadRequest(f"the request cannot be sent to the engine: {exc}") from None
        try:
            self._proc.stdin.write(frame)
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise EngineDied(f"the engine process is gone ({exc})") from None

    async def load(
        self, request: m.LoadModel, on_progress: Callable[[float], None] | None = None
    ) -> m.Loaded:
        """Load a model (replacing any other), once the answers under way have ended; progress goes to
        ``on_progress`` as 0..1."""
        async with self._lock:
            await self._no_answers.wait()
            return await self._load(request, on_progress)

    async def _load(self, request: m.LoadModel, on_progress: Callable[[float], None] | None) -> m.Loaded:
        if self._want is not None and self._want.rpc_servers and self.running:
            # A pooled model cannot be unloaded once its workers are gone (freeing a remote buffer over a
            # dead link aborts llama.cpp); a fresh process holds nothing remote, and the workers free the
            # buffers of a connection when it closes.
            await self.kill()
        await self.start()
        self._want = request
        self._send(request)
        while True:
            event = await self._next()
            if isinstance(event, m.LoadProgress):
                if on_progress:
                    on_progress(event.fraction)
            elif isinstance(event, m.Loaded):
                self.loaded = event
                return event
            elif isinstance(event, m.Failure):
                self._want = None
                raise from_failure(event.kind, event.message)

    async def estimate(self, request: m.Estimate) -> m.Estimated:
        """llama.cpp's dry run of a load: no model is loaded, none is unloaded."""
        async with self._lock:
            await self._no_answers.wait()
            await self.start()
            self._send(request)
            while True:
                event = await self._next()
                if isinstance(event, m.Estimated):
                    return event
                if isinstance(event, m.Failure):
                    raise from_failure(event.kind, event.message)

    async def cancel_load(self) -> None:
        """Ask a load in progress to stop; it then fails with 'loading was cancelled'."""
        if self.running:
            with contextlib.suppress(EngineDied):
                self._send(m.CancelLoad())

    async def generate(self, request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        """Run one request, handing each token to ``on_token`` as it is made; assigns ``request_id``.
        Several may run at once; cancelling the awaiting task ends this answer alone."""
        async with self._lock:
            if not self.running or self.loaded is None:
                if self._want is None:
                    raise NoModelLoaded("no model is loaded: load one first")
                await self._load(self._want, None)
            request_id = next(self._ids)
            route = _Route(asyncio.current_task())
            self._routes[request_id] = route
            self._no_answers.clear()
        loop_time = asyncio.get_running_loop().time
        t0, first, count = loop_time(), 0.0, 0
        try:
            # Sent inside the try: a request that cannot be sent must not stay routed.
            self._send(_with_id(request, request_id))
            while True:
                event = await route.events.get()
                if isinstance(event, _Exit):
                    self._dead()
                    raise EngineDied(event.message)
                if isinstance(event, _Abandon):
                    # What the engine still sends for this answer is dropped.
                    return _stopped(request_id, count, t0, first, loop_time())
                if isinstance(event, m.Token):
                    if not first:
                        first = loop_time()
                    count += event.id >= 0
                    on_token(event)
                elif isinstance(event, m.Done):
                    return event
                elif isinstance(event, m.Failure):
                    raise from_failure(event.kind, event.message)
        except EngineDied:
            if not route.killed_for_cancel:
                raise
            # The user's Stop outran llama.cpp and the process was ended for it: that is a stop.
            return _stopped(request_id, count, t0, first, loop_time())
        except asyncio.CancelledError:
            await asyncio.shield(self._stop(request_id, route))
            raise
        finally:
            self._routes.pop(request_id, None)
            route.ended.set()
            if not self._routes:
                self._no_answers.set()

    def _dead(self) -> None:
        self.ready = None
        self.loaded = None

    async def cancel(self, task: asyncio.Task[Any] | None = None) -> bool:
        """Stop the answer that ``task`` awaits (None: every answer under way) within
        ``CANCEL_GRACE_S``; False when there was none. An answer that overruns it is ended by killing
        the process when no other answer is under way, and otherwise left to finish in the engine, its
        caller told it stopped."""
        chosen = [
            (request_id, route)
            for request_id, route in list(self._routes.items())
            if task is None or route.task is task
        ]
        if not chosen or not self.running:
            return False
        for request_id, _ in chosen:
            with contextlib.suppress(EngineDied, BadRequest):
                self._send(m.Cancel(request_id))
        waits = [asyncio.ensure_future(route.ended.wait()) for _, route in chosen]
        try:
            await asyncio.wait(waits, timeout=CANCEL_GRACE_S)
        finally:
            for wait in waits:
                wait.cancel()
        late = [route for _, route in chosen if not route.ended.is_set()]
        if not late:
            return True
        if len(late) == len(self._routes):
            for route in late:
                route.killed_for_cancel = True
            await self.kill()
        else:
            for route in late:
                route.events.put_nowait(_ABANDON)
        return True

    async def _stop(self, request_id: int, route: _Route) -> None:
        # The awaiting task was cancelled: stop the engine's work on this answer and drain its events;
        # kill the process only when this answer is the only one and it does not stop in time.
        with contextlib.suppress(EngineDied, BadRequest):
            self._send(m.Cancel(request_id))

        async def drain() -> None:
            while True:
                event = await route.events.get()
                if isinstance(event, m.Done | m.Failure | _Exit | _Abandon):
                    return

        try:
            await asyncio.wait_for(drain(), CANCEL_GRACE_S)
        except TimeoutError:
            if set(self._routes) <= {request_id}:
                await self.kill()

    async def unload(self) -> None:
        async with self._lock:
            self._want = None
            if not self.running:
                self.loaded = None
                return
            self._send(m.Unload())
            while not isinstance(await self._next(), m.Unloaded):
                pass
            self.loaded = None

    async def kill(self) -> None:
        """End the process at once (SIGKILL); the next request starts a new one."""
        if self._proc and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
        await self._reap()

    async def _reap(self) -> None:
        if self._proc is not None:
            await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._reader = None
        self.ready = None
        self.loaded = None

    async def close(self) -> None:
        """Shut the process down, politely first."""
        self._want = None
        if self.running:
            with contextlib.suppress(EngineDied):
                self._send(m.Shutdown())
            try:
                assert self._proc is not None
                await asyncio.wait_for(self._proc.wait(), 5.0)
            except TimeoutError:
                pass
        await self.kill()


def _stopped(request_id: int, count: int, t0: float, first: float, now: float) -> m.Done:
    return m.Done(request_id, "cancelled", 0, count, (first or now) - t0, now - first if first else 0.0)


def _with_id(request: m.Generate, request_id: int) -> m.Generate:
    return msgspec.structs.replace(request, request_id=request_id)
