"""How other apps reach this device's model: the HTTP API's settings, its key, and where it listens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hearth.service.events import Event
from hearth.service.status import ApiStatus
from hearth.store import api_key
from hearth.store.settings import ApiSettings, load_api, update_api

OnDisk = Callable[..., Awaitable[Any]]


class ApiControl:
    def __init__(
        self, on_disk: OnDisk, emit: Callable[[Event], None], settings: ApiSettings | None = None
    ) -> None:
        """``settings``: for this run only, instead of the stored ones (``hearth serve``'s options)."""
        self._on_disk = on_disk
        self._emit = emit
        self._settings = settings or load_api()
        self._status = ApiStatus()

    @property
    def settings(self) -> ApiSettings:
        return self._settings

    def use(self, settings: ApiSettings) -> None:
        """Use ``settings`` for this run only, without storing them; the API restarts to match."""
        self._settings = settings
        self._emit(Event.API)

    def set_settings(self, **changes: Any) -> ApiSettings:
        """Change how other apps reach this device's model; the API restarts to match."""
        self._settings = update_api(**changes)
        self._emit(Event.API)
        return self._settings

    async def key(self) -> str:
        result: str = await self._on_disk(api_key.load_or_create)
        return result

    async def regenerate_key(self) -> str:
        key: str = await self._on_disk(api_key.regenerate)
        self._emit(Event.API)
        return key

    @property
    def status(self) -> ApiStatus:
        """Where the API listens now, or why it does not."""
        return self._status

    def report(self, status: ApiStatus) -> None:
        """Called by the HTTP API when it starts, stops or cannot listen."""
        self._status = status
        self._emit(Event.API)
