"""Models that other apps ask for by name.

The model loaded answers. Another model of the library is loaded in its place when the user allows it
(Settings → Other apps; on for models this device holds alone, off for plans that reserve other
devices), once the answers under way have ended. A load someone else started (the window's, a
replan) is waited for, never overridden; one load an app asked for serves every request that waits
for it, fails for all of them at once, and goes on when the client that asked for it leaves. A name
that no chat model of the library has, or one the user has not allowed, is refused with what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from hearth.core.plan import Plan, PlanError
from hearth.core.profile import ModelProfile, default_context
from hearth.core.routing import MOST_CONTEXT
from hearth.models.library import LibraryEntry
from hearth.service.errors import ServiceError
from hearth.service.planning import PlanChoice
from hearth.service.serving_state import Idle, Loaded, Loading, ServingState
from hearth.store.settings import ApiSettings

# How long a request waits for the model it named, the load included: a pooled 70B copies its weights
# over the network on its first load.
LOAD_WAIT_S = 900.0
_POLL_S = 0.2
RETRY_AFTER_S = 5
# A context to check a request's fields against before its model is loaded: none is longer.
UNCHECKED_CTX = 1 << 30


def served_as(asked: str, name: str) -> bool:
    """Whether a request's model name means the model other apps know as ``name``: clients add the
    file's extension, and Ollama's a tag (``:latest``)."""
    return asked in (name, f"{name}.gguf", f"{name}:latest")


def served_name(path: str) -> str:
    """The name other apps use for the model at ``path``: its file's, without the extension."""
    return Path(path).stem


class Refusal(StrEnum):
    NOT_FOUND = "model_not_found"  # no model of the library has that name
    NOT_CHAT = "model_not_chat"  # an embedding model: it makes vectors, not answers
    NOT_ALLOWED = "model_not_loaded"  # another is loaded, and apps may not load this one (here)
    CANNOT_LOAD = "model_cannot_load"  # allowed, but no plan over the devices at hand holds it
    BUSY = "model_busy"  # still loading, or the load failed: worth asking again later

    @property
    def status(self) -> int:
        """The HTTP status both APIs answer it with."""
        return {
            Refusal.NOT_FOUND: 404,
            Refusal.NOT_CHAT: 400,
            Refusal.NOT_ALLOWED: 404,
            Refusal.CANNOT_LOAD: 409,
            Refusal.BUSY: 503,
        }[self]


class NotServed(ServiceError):
    """A request named a model that does not answer now; the message says what to do."""

    def __init__(self, message: str, refusal: Refusal) -> None:
        super().__init__(message)
        self.refusal = refusal


class _Serving(Protocol):
    @property
    def state(self) -> ServingState: ...

    async def load_between_answers(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, only_if_idle: bool = False
    ) -> Loaded: ...


Choose = Callable[[str, bool, int | None], Awaitable[PlanChoice]]
Entries = Callable[[], Awaitable[list[LibraryEntry]]]


class OnDemand:
    def __init__(
        self,
        serving: _Serving,
        entries: Entries,
        choose: Choose,
        settings: Callable[[], ApiSettings],
        for_device: Callable[[asyncio.Task[Loaded], str, int | None], None] | None = None,
        device_loads: Callable[[], bool] = lambda: False,
    ) -> None:
        """``choose(path, pooled, n_ctx)``: the plan a load of the model at ``path`` would take (this
        device's own pools alone when not ``pooled``; None: the default context).
        ``for_device(task, path, n_ctx)`` is told of each load begun for another device's app,
        whoever still waits for it; ``device_loads()``: whether this device's user lets models be
        loaded for other devices' apps (apart from this device's own apps, ``load_on_request``)."""
        self._for_device = for_device
        self._device_loads = device_loads
        self._serving = serving
        self._entries = entries
        self._choose = choose
        self._settings = settings
        self._loading: asyncio.Task[Loaded] | None = None  # the load an app asked for, shared
        self._loading_path = ""

    @property
    def loading(self) -> bool:
        """Whether a load an app asked for is under way (planning included)."""
        return self._loading is not None and not self._loading.done()

    async def model(
        self, asked: str, for_device: bool = False, size: int | None = None, n_ctx: int = 0
    ) -> Loaded:
        """The loaded model that ``asked`` names (the file of ``size`` bytes, when given), loaded for
        it first when that is allowed. With ``for_device`` (a paired device's app asks) it is loaded
        only on this device alone, and only while no other model is loaded or loading: another
        device's request never replaces this device's own model; ``n_ctx``: the context that device
        has, loaded here when longer than the default (within the model's own)."""
        try:
            async with asyncio.timeout(LOAD_WAIT_S):
                return await self._model(asked, for_device, size, n_ctx)
        except TimeoutError:
            raise NotServed(
                f"the model '{asked}' is still loading; ask again shortly", Refusal.BUSY
            ) from None

    async def _model(self, asked: str, for_device: bool, size: int | None, n_ctx: int) -> Loaded:
        for _ in range(3):  # a load another finished may be of another model: then once more
            await self._settled()
            state = self._serving.state
            if isinstance(state, Loaded) and served_as(asked, state.served_name):
                return state
            entry = await self._allowed(asked, state, size, for_device)
            state, task = self._serving.state, self._loading  # read again: the library took a while
            if for_device and (not isinstance(state, Idle) or (task and not task.done())):
                raise NotServed("another model is loaded or loading here now", Refusal.BUSY)
            if task is None or task.done():
                task = self._start(entry, asked, for_device, n_ctx)
            elif self._loading_path != entry.path:
                # Another app's load is under way: this one comes after it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(task)
                continue
            try:
                return await asyncio.shield(task)
            except NotServed:
                raise
            except Exception as exc:
                raise NotServed(f"the model '{asked}' could not be loaded: {exc}", Refusal.BUSY) from None
        raise NotServed(f"other apps keep loading other models; ask for '{asked}' again", Refusal.BUSY)

    async def _settled(self) -> None:
        """Wait while a load someone else started is under way (``model``'s timeout bounds it)."""
        for _ in range(round(LOAD_WAIT_S / _POLL_S)):
            if not isinstance(self._serving.state, Loading) or (self._loading and not self._loading.done()):
                return
            await asyncio.sleep(_POLL_S)

    async def _allowed(
        self, asked: str, state: ServingState, size: int | None = None, for_device: bool = False
    ) -> LibraryEntry:
        """The library's entry ``asked`` names (of ``size`` bytes, when given), if apps (or, with
        ``for_device``, other devices' apps) may load it; refused with why otherwise."""
        serving_now = (
            f"Hearth is serving '{state.served_name}'" if isinstance(state, Loaded) else "no model is loaded"
        )
        entry = next(
            (
                e
                for e in await self._entries()
                if e.profile is not None
                and not e.problem
                and served_as(asked, served_name(e.path))
                and (size is None or e.profile.file_size == size)
            ),
            None,
        )
        if entry is None or entry.profile is None:
            raise NotServed(
                f"there is no model '{asked}' in Hearth's library ({serving_now}): add it on the Models "
                "page or with `hearth models pull`",
                Refusal.NOT_FOUND,
            )
        if entry.profile.embedding_only:
            raise NotServed(
                f"'{asked}' is an embedding model: it makes vectors for search (/v1/embeddings, "
                "/api/embed), not answers",
                Refusal.NOT_CHAT,
            )
        if for_device and not self._device_loads():
            raise NotServed(
                f"the model '{asked}' is not loaded, and this device's Settings do not let models be "
                "loaded for other devices' apps",
                Refusal.NOT_ALLOWED,
            )
        if not for_device and not self._settings().load_on_request:
            raise NotServed(
                f"the model '{asked}' is not loaded; {serving_now}. To let apps load the models they ask "
                "for, turn it on in Settings → Other apps",
                Refusal.NOT_ALLOWED,
            )
        return entry

    def _start(
        self, entry: LibraryEntry, asked: str, for_device: bool = False, n_ctx: int = 0
    ) -> asyncio.Task[Loaded]:
        ctx = None
        if for_device and entry.profile is not None and n_ctx > default_context(entry.profile):
            ctx = min(n_ctx, entry.profile.context_length or n_ctx, MOST_CONTEXT)
        task = asyncio.ensure_future(self._load(entry.path, asked, for_device, ctx))
        self._loading, self._loading_path = task, entry.path
        if for_device and self._for_device is not None:
            self._for_device(task, entry.path, ctx)
        # Nobody may be waiting when it fails (every client left): its error is not lost unread.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def _load(self, path: str, asked: str, for_device: bool, n_ctx: int | None = None) -> Loaded:
        choice = await self._plan(path, asked, self._settings().pool_on_request and not for_device, n_ctx)
        return await self._serving.load_between_answers(
            choice.profile, choice.prediction.plan, choice.n_ctx, only_if_idle=for_device
        )

    async def _plan(self, path: str, asked: str, pooled: bool, n_ctx: int | None = None) -> PlanChoice:
        try:
            choice = await self._choose(path, pooled, n_ctx)
            if choice.prediction.over:
                raise PlanError("; ".join(o.message() for o in choice.prediction.over.values()))
        except (PlanError, ServiceError) as exc:
            if pooled:
                raise NotServed(f"the model '{asked}' cannot be loaded: {exc}", Refusal.CANNOT_LOAD) from None
            raise NotServed(
                f"the model '{asked}' does not fit on this device alone ({exc}); to let apps load it over "
                "paired devices, allow that in Settings → Other apps",
                Refusal.CANNOT_LOAD,
            ) from None
        return choice
