"""The models a device with nothing loaded would load for a paired device's app.

A second device that sits idle can still take a request whose model is busy elsewhere, as long as
its library holds the same file. It offers the chat models of its library while four things hold:
nothing is loaded or loading here, nothing is lent to a paired host, its user lets paired devices'
apps ask (``Donation.answers``), and its user lets apps load the models they ask for (Settings →
Other apps). Each is offered as the file it is (the name apps use and its size), at the context a
load gets by default. A request for one loads it here alone, as an app here would (``OnDemand``).
A file that could not be loaded is not offered again until the library changes.

A model loaded for another device's app is unloaded again once it has answered nothing for
``KEEP_S``, as Ollama keeps a model it loaded for a request, so that an idle device goes back to idle;
once this device's own chat answers with it, it is this device's and stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from hearth.core import control
from hearth.core.profile import default_context
from hearth.core.routing import MOST_LOADABLE
from hearth.models.library import LibraryEntry
from hearth.service.events import Event
from hearth.service.node import Node
from hearth.service.on_demand import served_name
from hearth.service.serving import Serving
from hearth.service.serving_state import Idle, Loaded
from hearth.service.turns import Who
from hearth.store.settings import ApiSettings

log = logging.getLogger(__name__)
# How old the library's list may be before it is read again (another process may have added to it).
REFRESH_S = 30.0
# How long a model loaded for another device's app stays without answering, and how often that is seen.
KEEP_S = 300.0
WATCH_S = 5.0
File = tuple[str, int]  # a model's name, as apps name it, and its size


class Loadable:
    def __init__(
        self,
        node: Node,
        serving: Serving,
        entries: Callable[[], Awaitable[list[LibraryEntry]]],
        settings: Callable[[], ApiSettings],
        keep_s: float = KEEP_S,
        watch_s: float = WATCH_S,
    ) -> None:
        self._keep_s = keep_s
        self._watch_s = watch_s
        self._watching: asyncio.Task[None] | None = None
        self._node = node
        self._serving = serving
        self._entries = entries
        self._settings = settings
        self._library: list[control.Offer] = []
        self._read_at = -REFRESH_S
        self._reading: asyncio.Task[None] | None = None
        self._failed: set[File] = set()

    def on_event(self, what: Event) -> None:
        if what is Event.LIBRARY:
            self._failed.clear()
            self._read_at = -REFRESH_S

    def idle(self) -> bool:
        """Whether this device would load a model for a paired device's app now."""
        return (
            self._node.donation.answers
            and self._settings().load_on_request
            and isinstance(self._serving.state, Idle)
            and self._node.workers.used_memory() == 0
        )

    def offers(self) -> list[control.Offer]:
        """What telemetry offers to load now: none unless ``idle()``."""
        if not self.idle():
            return []
        self._read_if_old()
        return [o for o in self._library if (o.model, o.size) not in self._failed][:MOST_LOADABLE]

    def has(self, model: str, size: int) -> bool:
        return any((o.model, o.size) == (model, size) for o in self.offers())

    def failed(self, model: str, size: int) -> None:
        """Loading that file failed: it is not offered again until the library changes."""
        self._failed.add((model, size))

    def loaded_for_others(self, path: str) -> None:
        """The model at ``path`` was loaded here for another device's app: it is unloaded again once
        it has answered nothing for ``KEEP_S``, unless this device's own chat answers with it."""
        self.close()
        self._watching = asyncio.ensure_future(self._unload_when_unused(path))
        self._watching.add_done_callback(lambda t: t.cancelled() or t.exception())

    def close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()

    async def _unload_when_unused(self, path: str) -> None:
        unused = 0.0
        while True:
            await asyncio.sleep(self._watch_s)
            state = self._serving.state
            if not (isinstance(state, Loaded) and state.profile.path == path):
                return  # unloaded, or another model loaded: not this watch's any more
            queue = self._serving.queue()
            if queue.serving is Who.CHAT:
                return  # this device's own chat answers with it: it stays
            unused = 0.0 if queue.answering or queue.waiting else unused + self._watch_s
            if unused >= self._keep_s:
                log.info("unloading %s: loaded for a paired device's app, unused since", state.served_name)
                with contextlib.suppress(Exception):
                    await self._serving.unload()
                return

    def _read_if_old(self) -> None:
        if time.monotonic() - self._read_at < REFRESH_S or (self._reading and not self._reading.done()):
            return
        self._reading = asyncio.ensure_future(self._read())
        self._reading.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _read(self) -> None:
        self._read_at = time.monotonic()
        self._library = [
            control.Offer(
                served_name(e.path), e.profile.file_size, default_context(e.profile), 1, 0, 0, loaded=False
            )
            for e in await self._entries()
            if e.profile is not None and not e.problem and not e.profile.embedding_only
        ]
