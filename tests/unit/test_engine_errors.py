"""How the engine's failures reach the user: each kind raised again as its own class on the client's
side, and anything unexpected told by what the engine was doing, never by a class name."""

from __future__ import annotations

import pytest

from hearth.core.errors import HearthError
from hearth.engine import client, errors, process
from hearth.engine import messages as m

KINDS = [
    errors.EngineError,
    errors.PromptTooLong,
    errors.NoModelLoaded,
    errors.LoadFailed,
    errors.LoadCancelled,
    errors.BadRequest,
]


@pytest.mark.parametrize("cls", KINDS)
def test_a_failure_is_raised_again_as_the_class_the_engine_raised(cls: type[errors.EngineError]) -> None:
    message, kind = errors.explain(cls("what happened; what to do"), "answering")
    assert message == "what happened; what to do"
    # Across the pipe, as the engine sends it.
    failure = m.decode_event(m.encode(m.Failure(message, 3, kind))[4:])
    assert isinstance(failure, m.Failure)
    again = errors.from_failure(failure.kind, failure.message)
    assert type(again) is cls and str(again) == message
    assert isinstance(again, HearthError)


def test_every_kind_has_its_class() -> None:
    from typing import get_args

    assert {cls.kind for cls in KINDS} == set(get_args(errors.FailureKind))


def test_there_is_one_prompt_too_long_and_the_client_raises_it() -> None:
    assert client.PromptTooLong is errors.PromptTooLong
    assert client.EngineError is errors.EngineError and client.EngineDied is errors.EngineDied
    assert issubclass(errors.PromptTooLong, client.EngineError)


def test_an_unexpected_error_is_told_by_what_the_engine_was_doing() -> None:
    message, kind = errors.explain(RuntimeError("llama_decode returned -1"), "answering")
    assert kind == "engine"
    assert message.startswith("the engine failed while answering (llama_decode returned -1)")
    assert "RuntimeError" not in message and "log" in message


def test_an_error_without_words_is_still_a_sentence() -> None:
    message, _ = errors.explain(KeyError(), "loading /m.gguf")
    assert message == "the engine failed while loading /m.gguf; the engine's log has the details"


def test_running_out_of_memory_says_what_to_do() -> None:
    message, _ = errors.explain(MemoryError(), "loading /m.gguf")
    assert "ran out of memory while loading /m.gguf" in message and "smaller model" in message


@pytest.mark.parametrize(
    ("request_", "doing", "request_id"),
    [
        (m.LoadModel("/models/m.gguf"), "loading /models/m.gguf", None),
        (m.Estimate(m.LoadModel("/models/m.gguf"), 2), "sizing /models/m.gguf", None),
        (m.Generate(9, prompt="hi"), "answering", 9),
        (m.Unload(), "unloading the model", None),
    ],
)
def test_the_engine_process_names_the_request_that_failed(
    request_: m.Request, doing: str, request_id: int | None
) -> None:
    failure = process._failure(ValueError("bad magic"), request_)
    assert failure.message.startswith(f"the engine failed while {doing} (bad magic)")
    assert (failure.request_id, failure.kind) == (request_id, "engine")
    own = process._failure(errors.PromptTooLong("the prompt has 9 tokens"), request_)
    assert (own.message, own.kind) == ("the prompt has 9 tokens", "context")
