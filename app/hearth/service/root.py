"""The application: this device's services, started and stopped together.

The window, ``hearth node`` / ``hearth serve`` and the tests run it the same way::

    async with running(options) as hearth:
        await hearth.serving.load(...)

Each service holds one capability and depends on narrow protocols of what it needs. Everything here is
asyncio and knows nothing of Qt; disk work (the conversation store, GGUF headers) runs on one worker
thread, in order, so that the event loop, which in the window is the Qt thread, never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from hearth.core.profile import ModelProfile
from hearth.engine.client import EngineClient
from hearth.engine.embedding_client import EmbeddingClient
from hearth.mesh.pairing_endpoint import CodeShown
from hearth.models.library import profile_of
from hearth.service.api_settings import ApiControl
from hearth.service.conversations import Conversations
from hearth.service.devices import Devices
from hearth.service.donation import Donating
from hearth.service.drafting import Drafting
from hearth.service.embeddings import Embeddings
from hearth.service.events import Event, Events
from hearth.service.loadable import Loadable
from hearth.service.memory_check import MemoryCheck
from hearth.service.models import Models
from hearth.service.node import Node, NodeOptions
from hearth.service.on_demand import OnDemand
from hearth.service.plans import Plans
from hearth.service.pools import NodePools
from hearth.service.reservations import Reservations
from hearth.service.routing import Routing
from hearth.service.serving import Serving
from hearth.service.serving_state import Loaded
from hearth.store.settings import ApiSettings, Speculation

log = logging.getLogger(__name__)
T = TypeVar("T")


class Hearth:
    def __init__(
        self,
        options: NodeOptions,
        show_code: Callable[[CodeShown], None] | None = None,
        api_settings: ApiSettings | None = None,
        speculation: Speculation | None = None,
    ) -> None:
        self.events = Events()
        self._disk = ThreadPoolExecutor(1, thread_name_prefix="hearth-disk")
        self._node = Node(options, show_code=show_code or (lambda shown: log.info("%s", shown.describe())))
        self._engine = EngineClient()
        self._sizing = MemoryCheck()
        self.devices = Devices(self._node)
        self.donation = Donating(self._node)
        self.plans = Plans(self._node, self._sizing, lambda: self.serving.state, self._profile)
        self.drafting = Drafting(self._library_profiles, self._profile, speculation)
        self.serving = Serving(
            self._engine, NodePools(self._node), self.plans, self.events.emit, guesser=self.drafting
        )
        self.reservations = Reservations(NodePools(self._node))
        self.api = ApiControl(self._on_disk, self.events.emit, api_settings)
        self.models = Models(self._on_disk, self.events.emit, self._served_path)
        self.embeddings = Embeddings(EmbeddingClient(), self.models, self._served_profile)
        self.on_demand = OnDemand(
            self.serving,
            self.models.entries,
            lambda path, pooled, n_ctx: self.plans.choose(path, n_ctx, pooled=pooled),
            lambda: self.api.settings,
            lambda task, path, n_ctx: self.loadable.loading_for_device(task, path, n_ctx),
            lambda: self._node.donation.loads_for_devices,
        )
        self.loadable = Loadable(
            self._node,
            self.serving,
            self.models.entries,
            lambda: self.on_demand.loading,
        )
        self.events.subscribe(self.loadable.on_event)
        self.routing = Routing(
            self._node,
            self.serving,
            lambda: self.api.settings,
            self.loadable,
            lambda ask: self.on_demand.model(ask.model, for_device=True, size=ask.size, n_ctx=ask.n_ctx),
        )
        self.conversations = Conversations(
            self._on_disk,
            self._disk,
            self.serving.generate,
            lambda: self._served_path() or "",
            lambda: self.api.settings.keep_history,
        )
        self._node.listeners.append(self.serving.on_event)
        self._node.listeners.append(self.reservations.on_event)
        self._node.listeners.append(self.events.emit)

    async def _on_disk(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._disk, fn, *args)

    async def _profile(self, path: str) -> Any:
        return await self._on_disk(profile_of, path)

    async def _library_profiles(self) -> list[ModelProfile]:
        return [e.profile for e in await self.models.entries() if e.profile is not None]

    def _served_profile(self) -> ModelProfile | None:
        state = self.serving.state
        return state.profile if isinstance(state, Loaded) else None

    def _served_path(self) -> str | None:
        state = self.serving.state
        return state.profile.path if isinstance(state, Loaded) else None

    async def start(self) -> None:
        await self.conversations.start()
        await self._node.start()

    async def stop(self) -> None:
        self.loadable.close()
        await self.models.close()
        await self.embeddings.close()
        with contextlib.suppress(Exception):
            await self._engine.close()
        await self._sizing.close()
        await self.serving.close()
        await self.reservations.close()
        await self._node.stop()
        await self.conversations.close()
        self._disk.shutdown(wait=True)


@contextlib.asynccontextmanager
async def running(
    options: NodeOptions,
    show_code: Callable[[CodeShown], None] | None = None,
    api_settings: ApiSettings | None = None,
    speculation: Speculation | None = None,
) -> AsyncIterator[Hearth]:
    """This device's services, started; stopped on the way out however it is left."""
    hearth = Hearth(options, show_code, api_settings, speculation)
    try:
        await hearth.start()
        yield hearth
    finally:
        await hearth.stop()


__all__ = ["Event", "Hearth", "running"]
