"""How other apps reach this device's model: the HTTP API's settings, its key, and where it listens."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hearth.service.events import Event
from hearth.service.status import ApiStatus
from hearth.store import api_key
from hearth.store.settings import ApiSettings, load_api, update_api

OnDisk = Callable[..., Awaitable[Any]]
# The Ollama API's own port: Ollama's is 11434, which users who also run Ollama keep for it.
DEFAULT_OLLAMA_PORT = 11435


@dataclass(frozen=True)
class RunApiSettings(ApiSettings):
    """Settings for one run (``hearth serve``'s options): the stored ones and the Ollama API's port
    (0: any free one; None: no Ollama API)."""

    ollama_port: int | None = DEFAULT_OLLAMA_PORT

    @classmethod
    def of(cls, settings: ApiSettings, ollama_port: int | None) -> RunApiSettings:
        values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(ApiSettings)}
        return cls(**values, ollama_port=ollama_port)


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
        addresses and with the same key); None: it does not. Where the OpenAI API takes any free port,
        so does it."""
        if not settings.enabled:
            return None
        if isinstance(settings, RunApiSettings):
            return settings.ollama_port
        return 0 if settings.port == 0 else DEFAULT_OLLAMA_PORT

    @property
    def ollama_status(self) -> ApiStatus:
        """Where the Ollama API listens now, or why it does not."""
        return self._ollama_status

    def report_ollama(self, status: ApiStatus) -> None:
        """Called by the Ollama API when it starts, stops or cannot listen. Raises no event: both APIs
        follow Event.API, and a failed start of one must not make the other try again."""
        self._ollama_status = status

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
