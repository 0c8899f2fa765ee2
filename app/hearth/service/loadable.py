"""The models a device with nothing loaded would load for a paired device's app.

A second device that sits idle can still take a request whose model is busy elsewhere, as long as
its library holds the same file. It offers the chat models of its library while four things hold:
nothing is loaded or loading here, nothing is lent to a paired host, its user lets paired devices'
apps ask (``Donation.answers``), and its user lets models be loaded for them (``Donation.loads``: a
consent of its own, apart from letting this device's own apps load models). Each is offered as the
file it is (the name apps use and its size), with the model's own context: a request for it is loaded
at the asking device's context when that is longer than the default. A request for one loads it
here alone, as an app here would (``OnDemand``).
A file that could not be loaded is not offered again until the library changes.

A load begun for another device's app is watched from its start, whoever still waits for it: the
model is unloaded again once it has answered nothing for ``KEEP_S``, as Ollama keeps a model it loaded
for a request, so that an idle device goes back to idle (at once, once nothing uses it, when its
user no longer allows loads for other devices); once this device's own chat has answered with it, it
is this device's and stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from hearth.core import control
from hearth.core.profile import ModelProfile, default_context
from hearth.core.routing import MOST_CONTEXT, MOST_LOADABLE
from hearth.engine.errors import EngineDied, LoadFailed
from hearth.models.library import LibraryEntry
from hearth.service.events import Event
from hearth.service.node import Node
from hearth.service.on_demand import NotServed, Refusal, served_name
from hearth.service.serving import Serving
from hearth.service.serving_state import Idle, Loaded

log = logging.getLogger(__name__)
# How old the library's list may be before it is read again (another process may have added to it).
REFRESH_S = 30.0
# How long a model loaded for another device's app stays without answering, and how often that is seen.
KEEP_S = 300.0
WATCH_S = 5.0


class Loadable:
    def __init__(
        self,
        node: Node,
        serving: Serving,
        entries: Callable[[], Awaitable[list[LibraryEntry]]],
        loading: Callable[[], bool] = lambda: False,
        keep_s: float = KEEP_S,
        watch_s: float = WATCH_S,
    ) -> None:
        """``loading()``: whether a load an app asked for is under way here (``OnDemand.loading``)."""
        self._node = node
        self._serving = serving
        self._entries = entries
        self._loading = loading
        self._keep_s = keep_s
        self._watch_s = watch_s
        self._library: dict[str, control.Offer] = {}  # by path
        self._read_at = -REFRESH_S
        self._reading: asyncio.Task[None] | None = None
        self._failed: set[str] = set()  # paths
        self._watching: set[asyncio.Task[None]] = set()

    def on_event(self, what: Event) -> None:
        if what is Event.LIBRARY:
            self._failed.clear()
            self._read_at = -REFRESH_S

    def idle(self) -> bool:
        """Whether this device would load a model for a paired device's app now."""
        return (
            self._node.donation.loads_for_devices
            and isinstance(self._serving.state, Idle)
            and not self._loading()
            and self._node.workers.used_memory() == 0
        )

    def offers(self) -> list[control.Offer]:
        """What telemetry offers to load now: none unless ``idle()``."""
        return [offer for _, offer in self._offered()]

    def has(self, model: str, size: int) -> bool:
        return any((o.model, o.size) == (model, size) for o in self.offers())

    def _offered(self) -> list[tuple[str, control.Offer]]:
        if not self.idle():
            return []
        self._read_if_old()
        return [(p, o) for p, o in self._library.items() if p not in self._failed][:MOST_LOADABLE]

    # --- loads begun for other devices ---

    def loading_for_device(self, task: asyncio.Task[Loaded], path: str, n_ctx: int | None = None) -> None:
        """``task`` loads the model at ``path`` for another device's app (at ``n_ctx``; None: the
        default): once it ends, the model is watched. A file the engine could not load, or that
        does not fit at the default context, is no longer offered; a passing refusal (busy, another
        model loaded meanwhile, a longer context) changes nothing."""

        def ended(done: asyncio.Task[Loaded]) -> None:
            if done.cancelled():
                return
            failure = done.exception()
            if failure is None:
                self._watch(done.result())
            elif isinstance(failure, LoadFailed | EngineDied) or (
                isinstance(failure, NotServed) and failure.refusal is Refusal.CANNOT_LOAD and n_ctx is None
            ):
                self._failed.add(path)

        task.add_done_callback(ended)

    def close(self) -> None:
        for task in self._watching:
            task.cancel()

    def _watch(self, loaded: Loaded) -> None:
        # Counted now, as the load ends: the chat may take its first turn before the watch begins.
        task = asyncio.ensure_future(self._unload_when_unused(loaded, self._serving.queue().chat_turns))
        self._watching.add(task)
        task.add_done_callback(self._watching.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _unload_when_unused(self, loaded: Loaded, chat_turns: int) -> None:
        since = time.monotonic()
        while True:
            await asyncio.sleep(self._watch_s)
            state = self._serving.state
            # This load's model still: the same engine load (a reload of the same file is another).
            if not (isinstance(state, Loaded) and state.loaded is loaded.loaded):
                return
            queue = self._serving.queue()
            if queue.chat_turns > chat_turns:
                return  # this device's own chat has answered with it: it stays
            now = time.monotonic()
            since = now if queue.answering or queue.waiting else max(since, queue.last_ended)
            # With loading for other devices no longer allowed, it goes as soon as nothing uses it.
            keep = self._keep_s if self._node.donation.loads_for_devices else 0.0
            if now - since >= keep:
                log.info("unloading %s: loaded for a paired device's app, unused since", state.served_name)
                with contextlib.suppress(Exception):
                    await self._serving.unload()
                return

    # --- the library ---

    def _read_if_old(self) -> None:
        if time.monotonic() - self._read_at < REFRESH_S or (self._reading and not self._reading.done()):
            return
        self._reading = asyncio.ensure_future(self._read())
        self._reading.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _read(self) -> None:
        self._read_at = time.monotonic()
        self._library = {
            e.path: control.Offer(
                served_name(e.path), e.profile.file_size, _longest(e.profile), 1, 0, 0, loaded=False
            )
            for e in await self._entries()
            if e.profile is not None and not e.problem and not e.profile.embedding_only
        }


def _longest(profile: ModelProfile) -> int:
    """The longest context offered for ``profile``: its own, the default at least."""
    return min(max(profile.context_length, default_context(profile)), MOST_CONTEXT)
