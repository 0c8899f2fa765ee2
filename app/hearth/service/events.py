"""What changed in the node, as its listeners (the window) are told."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

log = logging.getLogger(__name__)


class Event(StrEnum):
    DEVICES = "devices"  # a device appeared, left, paired, was forgotten, connected or disconnected
    TELEMETRY = "telemetry"  # a paired device reported its memory and speed
    DONATION = "donation"  # this device's donation or its workers changed
    PAIRING = "pairing"  # a pairing code is to be shown, or is no longer
    POOL = "pool"  # a device of the loaded pool gave up its worker
    MODEL = "model"  # a model was loaded or unloaded
    TURNS = "turns"  # who the model is answering, or how many wait for it, changed
    API = "api"  # the HTTP API for other apps started, stopped or changed its settings
    OLLAMA = "ollama"  # the Ollama API started, stopped or could not listen
    DOWNLOADS = "downloads"  # a download started, progressed, paused, failed or finished
    LIBRARY = "library"  # a model was added to this device's library or removed from it


class Events:
    """Whoever listens to the application: each is told every event, and one that fails is logged, not
    allowed to take the node (or the other listeners) down with it."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Tell ``listener`` of every event from now on; returns what stops that."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, what: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(what)
            except Exception:
                log.exception("listener failed on %s", what)
