"""Turns at the one loaded model: first come, first served, with a bounded line.

The window's chat and every API request take a turn here, so that one model answers one request at
a time in the order they came, and the window can show who is being answered and how many wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from enum import StrEnum

from hearth.core.errors import HearthError


class Who(StrEnum):
    CHAT = "chat"  # this device's window or `hearth chat`
    API = "api"  # another app through the HTTP API


class LineFull(HearthError):
    """Too many requests are waiting for the model; the caller should try again shortly."""


class Turns:
    def __init__(self, max_waiting: int = 16, on_change: Callable[[], None] | None = None) -> None:
        self.max_waiting = max_waiting
        self._lock = asyncio.Lock()  # asyncio's lock wakes waiters in the order they came
        self._waiting = 0
        self.serving: Who | None = None
        self._on_change = on_change or (lambda: None)

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.asynccontextmanager
    async def turn(self, who: Who) -> AsyncIterator[None]:
        """Wait for the model, then hold it until the block ends (or the caller is cancelled)."""
        if self._lock.locked() and self._waiting >= self.max_waiting:
            raise LineFull(f"{self._waiting} requests are already waiting for the model")
        self._waiting += 1
        self._on_change()
        try:
            await self._lock.acquire()
        except BaseException:
            self._waiting -= 1
            self._on_change()
            raise
        self._waiting -= 1
        try:
            self.serving = who
            self._on_change()
            yield
        finally:
            self.serving = None
            self._lock.release()
            self._on_change()
