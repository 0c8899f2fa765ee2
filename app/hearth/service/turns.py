"""Turns at the one loaded model: up to ``at_once`` answers together, the rest in a bounded line.

The window's chat and every API request take a turn here. A model loaded for several answers at once
(continuous batching) gives each of them a place of the batch; when every place is taken, requests
wait in the order they came, except that the window's own chat goes ahead of the apps waiting, and no
one client holds more than ``per_client`` places (by default all but one, so that with a batch of two
or more places one is always left for someone else, the window first). The window can show who is
being answered and how many wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from hearth.core.errors import HearthError


class Who(StrEnum):
    CHAT = "chat"  # this device's window or `hearth chat`
    API = "api"  # another app through the HTTP API


class LineFull(HearthError):
    """Too many requests are waiting for the model; the caller should try again shortly."""


@dataclass(eq=False)
class _Turn:
    who: Who
    client: str
    task: asyncio.Task[object] | None
    granted: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Turns:
    def __init__(
        self,
        max_waiting: int = 16,
        on_change: Callable[[], None] | None = None,
        at_once: int = 1,
        per_client: int | None = None,
    ) -> None:
        self.max_waiting = max_waiting
        self._at_once = max(1, at_once)
        self._per_client = per_client
        self._line: list[_Turn] = []  # in arrival order
        self._answering: list[_Turn] = []
        self._on_change = on_change or (lambda: None)
        # While a caller takes the model alone (a model loaded between answers): no turn is given,
        # and it is told once the answers under way have ended.
        self._alone = asyncio.Lock()
        self._held = False
        self._drained: asyncio.Future[None] | None = None
        self.chat_turns = 0  # turns given to the window's chat so far
        self.last_ended = time.monotonic()  # when the latest turn ended (or the line was made)

    @property
    def at_once(self) -> int:
        """How many answers the model gives together."""
        return self._at_once

    @at_once.setter
    def at_once(self, n: int) -> None:
        if max(1, n) != self._at_once:
            self._at_once = max(1, n)
            if self._grant():
                self._on_change()

    @property
    def per_client(self) -> int:
        """The most places one client holds at once."""
        if self._per_client is not None:
            return max(1, self._per_client)
        return max(1, self._at_once - 1)

    @property
    def waiting(self) -> int:
        return len(self._line)

    @property
    def chat_waiting(self) -> bool:
        """Whether the window's chat waits for a place."""
        return any(t.who is Who.CHAT for t in self._line)

    @property
    def answering(self) -> int:
        """How many answers are being given now."""
        return len(self._answering)

    @property
    def serving(self) -> Who | None:
        """Whom the model is answering: the window's chat when it is among them."""
        whos = {t.who for t in self._answering}
        return Who.CHAT if Who.CHAT in whos else Who.API if whos else None

    def is_answering(self, task: asyncio.Task[object]) -> bool:
        """Whether ``task`` holds a turn now (rather than waiting for one, or holding none)."""
        return any(t.task is task for t in self._answering)

    def _fits(self, turn: _Turn) -> bool:
        if len(self._answering) >= self._at_once:
            return False
        return sum(t.client == turn.client for t in self._answering) < self.per_client

    def _grant(self) -> bool:
        """Give free places to waiters: the window's chat first, then in arrival order."""
        if self._held:
            if not self._answering and self._drained is not None and not self._drained.done():
                self._drained.set_result(None)
            return False
        granted = False
        for turn in sorted(self._line, key=lambda t: t.who is not Who.CHAT):  # stable: arrival order
            if self._fits(turn):
                self._line.remove(turn)
                self._answering.append(turn)
                turn.granted.set_result(None)
                self.chat_turns += turn.who is Who.CHAT
                granted = True
        return granted

    @contextlib.asynccontextmanager
    async def turn(self, who: Who, client: str = "") -> AsyncIterator[None]:
        """Wait for a place at the model, then hold it until the block ends (or the caller is
        cancelled). ``client`` tells apart callers that share a cap ("": one per kind of caller)."""
        turn = _Turn(who, client or who.value, asyncio.current_task())
        self._line.append(turn)
        self._grant()
        if not turn.granted.done() and len(self._line) > self.max_waiting:
            self._line.remove(turn)
            raise LineFull(f"{len(self._line)} requests are already waiting for the model")
        self._on_change()
        try:
            await turn.granted
        except BaseException:
            if turn in self._line:
                self._line.remove(turn)
            elif turn in self._answering:
                # Granted, but cancelled before it could begin: the place goes to the next.
                self._answering.remove(turn)
                self._grant()
            self._on_change()
            raise
        try:
            yield
        finally:
            self._answering.remove(turn)
            self.last_ended = time.monotonic()
            self._grant()
            self._on_change()

    @contextlib.asynccontextmanager
    async def alone(self) -> AsyncIterator[None]:
        """Hold the model alone: new turns wait from now on, the answers under way end as they would,
        and the block runs once none is left (cancelling the caller gives every place back)."""
        async with self._alone:
            self._held = True
            self._drained = asyncio.get_running_loop().create_future()
            try:
                if self._answering:
                    await self._drained
                yield
            finally:
                self._held = False
                self._drained = None
                if self._grant():
                    self._on_change()
