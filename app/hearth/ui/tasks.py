"""Running the facade's coroutines from Qt slots, on the qasync loop that shares the Qt thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

log = logging.getLogger(__name__)
_running: set[asyncio.Task[Any]] = set()


def spawn(
    coro: Coroutine[Any, Any, Any],
    on_error: Callable[[BaseException], None] | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> asyncio.Task[Any]:
    """Start ``coro``; its result or its error goes to the callbacks, never into the void."""
    task = asyncio.ensure_future(coro)
    _running.add(task)

    def finished(t: asyncio.Task[Any]) -> None:
        _running.discard(t)
        if t.cancelled() or not all(_alive(cb) for cb in (on_error, on_done)):
            return
        exc = t.exception()
        if exc is not None:
            if on_error is not None:
                on_error(exc)
            else:
                log.error("background task failed", exc_info=exc)
        elif on_done is not None:
            on_done(t.result())

    task.add_done_callback(finished)
    return task


def _alive(callback: Callable[..., None] | None) -> bool:
    """False when the callback belongs to a widget that is gone (a page made again in another language)."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
