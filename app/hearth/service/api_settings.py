"""How other apps reach this device's model: the HTTP API's settings, its key, and where it listens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hearth.service.events import Event
from hearth.service.status import ApiStatus
from hearth.store import api_key
from hearth.store.settings import DEFAULT_OLLAMA_PORT, ApiSettings, SettingsError, load_api, update_api

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
        self._ollama_status = ApiStatus()

    @property
    def settings(self) -> ApiSettings:
        return self._settings

    def ollama_port(self, settings: ApiSettings) -> int | None:
        """Where the Ollama API listens with ``settings`` (beside the OpenAI API, on the same
        addresses and with the same key); None: it does not. Where the OpenAI API takes any free port
        and the Ollama port is left as it was, so does it: two runs side by side never collide."""
        if not settings.enabled or not settings.ollama:
            return None
        if settings.port == 0 and settings.ollama_port == DEFAULT_OLLAMA_PORT:
            return 0
        return settings.ollama_port

    @property
    def ollama_status(self) -> ApiStatus:
        """Where the Ollama API listens now, or why it does not."""
        return self._ollama_status

    def report_ollama(self, status: ApiStatus) -> None:
        """Called by the Ollama API when it starts, stops or cannot listen. Its own event: both APIs
        follow Event.API, and a failed start of one must not make the other try again."""
        self._ollama_status = status
        self._emit(Event.OLLAMA)

    def use(self, settings: ApiSettings) -> None:
        """Use ``settings`` for this run only, without storing them; the API restarts to match."""
        self._settings = settings
        self._emit(Event.API)

    def set_settings(self, **changes: Any) -> ApiSettings:
        """Change how other apps reach this device's model; the API restarts to match."""
        port = changes.get("port", self._settings.port)
        ollama = changes.get("ollama", self._settings.ollama)
        if ollama and port and changes.get("ollama_port", self._settings.ollama_port) == port:
            raise SettingsError(f"the Ollama API needs a port of its own: {port} is the OpenAI API's")
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
