"""What can go wrong with the engine, said so that the user knows what happened and what to do.

The engine process sends a failure as its message and its kind (``Failure.kind``); the client raises
the error of that kind again, so the caller on the asyncio side catches the same class the engine
raised. Anything the engine did not expect is described by what it was doing, never by a class name.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from hearth.core.errors import HearthError

# The kinds a failure crosses the pipe as. "engine": anything without a kind of its own.
FailureKind = Literal["engine", "context", "no_model", "load", "cancelled", "request"]


class EngineError(HearthError, RuntimeError):
    """The engine refused or failed a request; the engine itself is still running."""

    kind: ClassVar[FailureKind] = "engine"


class PromptTooLong(EngineError):
    """The prompt does not fit the loaded model's context; shorten it or load with a longer one."""

    kind: ClassVar[FailureKind] = "context"


class NoModelLoaded(EngineError):
    """A question for the engine before any model was loaded (or after it was unloaded)."""

    kind: ClassVar[FailureKind] = "no_model"


class LoadFailed(EngineError):
    """The model could not be loaded; the message says why, as far as the backend told."""

    kind: ClassVar[FailureKind] = "load"


class LoadCancelled(EngineError):
    """The user cancelled a load before it finished."""

    kind: ClassVar[FailureKind] = "cancelled"


class BadRequest(EngineError, ValueError):
    """A request the engine cannot carry out as asked (an unknown cache type, a plan that does not fit
    its endpoints). A ValueError too, so that msgspec reports it as a validation error when a request
    that fails its checks arrives on the wire."""

    kind: ClassVar[FailureKind] = "request"


class EngineDied(EngineError):
    """The engine process exited; the next request starts a new one."""


_BY_KIND: dict[str, type[EngineError]] = {
    cls.kind: cls
    for cls in (EngineError, PromptTooLong, NoModelLoaded, LoadFailed, LoadCancelled, BadRequest)
}


def from_failure(kind: FailureKind, message: str) -> EngineError:
    """The error the engine raised, raised again on this side of the pipe."""
    return _BY_KIND.get(kind, EngineError)(message)


def explain(exc: BaseException, doing: str) -> tuple[str, FailureKind]:
    """What to tell the user about ``exc``, raised while the engine was ``doing`` (``"loading
    /m.gguf"``, ``"answering"``), and the failure's kind."""
    if isinstance(exc, EngineError):
        return str(exc), exc.kind
    if isinstance(exc, MemoryError):
        return (
            f"the engine ran out of memory while {doing}; close other programs, or choose a shorter "
            "context or a smaller model",
            "engine",
        )
    detail = str(exc).strip()
    said = f" ({detail})" if detail else ""
    return f"the engine failed while {doing}{said}; the engine's log has the details", "engine"
