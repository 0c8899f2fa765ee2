"""llama.cpp's own sizing of a plan's compute buffers, in an engine process kept for it.

``core.memory`` estimates a device's compute buffer from the graph's shape; llama.cpp's allocator then
packs the graph's tensors its own way, which on small models can be a few percent either side. Its
dry run says exactly what each device would get, in about a tenth of a second, without reserving or
even reaching any device. The planner searches with the estimate; the plan a user sees, loads, or
asks for is then sized by the dry run.

The dry runs use an engine process of their own, so that a model being loaded or answering in the
main engine neither waits for them nor is disturbed; it ends after a minute without use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import msgspec

from hearth.core.plan import HOST, Plan
from hearth.core.profile import ModelProfile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineDied, EngineError
from hearth.store import paths

log = logging.getLogger(__name__)
IDLE_S = 60.0
TIMEOUT_S = 30.0
REMEMBERED = 256

_Key = tuple[str, int, str, int, str, int]


def _key(profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str, at_once: int) -> _Key:
    return (profile.path, profile.file_size, str(plan), n_ctx, cache_type, at_once)


class MemoryCheck:
    def __init__(self, log_path: Path | None = None) -> None:
        self._log_path = log_path
        self._engine: EngineClient | None = None
        self._known: OrderedDict[_Key, dict[str, int]] = OrderedDict()
        self._idle: asyncio.TimerHandle | None = None
        self._running: dict[_Key, asyncio.Future[dict[str, int]]] = {}
        self._closed = False
        self._ending: asyncio.Future[None] | None = None

    def known(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16", at_once: int = 1
    ) -> dict[str, int] | None:
        """What llama.cpp already said of this plan, without asking again; None when not yet asked."""
        key = _key(profile, plan, n_ctx, cache_type, at_once)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
        return known

    async def compute(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16", at_once: int = 1
    ) -> dict[str, int] | None:
        """Compute buffer bytes per device of ``plan`` (``HOST`` for this one) loaded for ``at_once``
        answers together, or None when llama.cpp could not size it (the reason is logged; the
        estimate stands)."""
        if not profile.format.sizable:
            return None
        key = _key(profile, plan, n_ctx, cache_type, at_once)
        known = self.known(profile, plan, n_ctx, cache_type, at_once)
        if known is not None:
            return known
        running = self._running.get(key)
        if running is None:
            # Shielded: a caller that gives up (a newer plan on the strip) leaves the answer to the cache.
            sizing = self._size(key, profile, plan, n_ctx, cache_type, at_once)
            running = self._running[key] = asyncio.ensure_future(sizing)
        try:
            return await asyncio.shield(running)
        except (EngineError, EngineDied, TimeoutError) as exc:
            log.warning("llama.cpp could not size %s as %s: %s", profile.path, plan, exc)
            return None

    async def _size(
        self, key: _Key, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str, at_once: int
    ) -> dict[str, int]:
        try:
            request = m.Estimate.for_plan(profile, plan, n_ctx, cache_type=cache_type)
            if at_once > 1 and profile.format.can_pool:
                # The context of a load for several answers holds a sequence per answer, as it will.
                load = msgspec.structs.replace(request.load, parallel=at_once)
                request = msgspec.structs.replace(request, load=load)
            # A log of its own: the main engine's log stays that engine's, and so do its error messages.
            log_path = self._log_path or paths.logs_dir() / "sizing.log"
            engine = self._engine = self._engine or EngineClient(log_path)
            self._keep_alive()
            try:
                async with asyncio.timeout(TIMEOUT_S):
                    sized = await engine.estimate(request)
            except BaseException:
                await engine.kill()  # an answer left in flight must not reach the next request
                raise
            figures: dict[str, int] = {HOST: sized.host}
            figures.update({a.device: size for a, size in zip(plan.offloaded, sized.remotes, strict=True)})
            self._known[key] = figures
            if len(self._known) > REMEMBERED:
                self._known.popitem(last=False)
            return figures
        finally:
            self._running.pop(key, None)
            self._keep_alive()

    def _keep_alive(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if not self._closed:
            self._idle = asyncio.get_running_loop().call_later(IDLE_S, self._idle_close)

    def _idle_close(self) -> None:
        # A dry run under way re-arms the timer when it ends; the next one starts a new engine.
        if not self._running:
            self._ending = asyncio.ensure_future(self._end_engine())

    def _end_engine(self) -> Coroutine[Any, Any, None]:
        engine, self._engine = self._engine, None  # at once: a dry run starting now gets a new one

        async def end() -> None:
            if engine is not None:
                with contextlib.suppress(Exception):
                    await engine.close()

        return end()

    async def close(self) -> None:
        self._closed = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        for running in list(self._running.values()):
            running.cancel()
        await self._end_engine()
