"""Requests and answers of the OpenAI-compatible HTTP API, in OpenAI's shapes.

Requests are decoded leniently about fields Hearth does not use (clients send many), strictly about
the ones it does. Only what Hearth can honour is accepted: one choice (``n=1``), text content.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec

from hearth.service import messages as m

# Every integer has bounds: one the engine's messages cannot carry (past 64 bits) would otherwise fail
# only on its way to the engine, as a server error.
Positive = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Seed = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # OpenAI's: a 64-bit integer
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Temperature = Annotated[float, msgspec.Meta(ge=0.0, le=2.0)]
MAX_STOPS = 4  # as OpenAI allows


class BadRequest(ValueError):
    """A request Hearth cannot honour; the message says which field and why."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class StreamOptions(msgspec.Struct):
    include_usage: bool = False


class ContentPart(msgspec.Struct):
    type: str
    text: str | None = None


class InMessage(msgspec.Struct):
    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        if any(part.type != "text" for part in self.content):
            raise BadRequest("only text content is supported", "messages")
        return "".join(part.text or "" for part in self.content)


class Generation(msgspec.Struct, kw_only=True):
    model: str
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Positive | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    seed: Seed | None = None
    stop: str | list[str] | None = None
    n: Positive = 1

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    def sampling(self, n_ctx: int) -> m.Sampling:
        if self.n != 1:
            raise BadRequest("only n=1 is supported", "n")
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > MAX_STOPS:
            raise BadRequest(f"at most {MAX_STOPS} stop sequences are allowed", "stop")
        defaults = m.Sampling()
        return m.Sampling(
            # No limit given: as much as the context leaves (the engine stops there, reporting "length").
            max_tokens=self.max_tokens or n_ctx,
            temperature=defaults.temperature if self.temperature is None else self.temperature,
            top_p=defaults.top_p if self.top_p is None else self.top_p,
            seed=self.seed,
            stop=stops,
        )


class ChatRequest(Generation, kw_only=True):
    messages: list[InMessage]
    max_completion_tokens: Positive | None = None

    def chat_messages(self) -> list[m.ChatMessage]:
        if not self.messages:
            raise BadRequest("messages must not be empty", "messages")
        return [m.ChatMessage(x.role, x.text()) for x in self.messages]

    def sampling(self, n_ctx: int) -> m.Sampling:
        sampling = super().sampling(n_ctx)
        if self.max_completion_tokens is not None and self.max_tokens is None:
            sampling = msgspec.structs.replace(sampling, max_tokens=self.max_completion_tokens)
        return sampling


class CompletionRequest(Generation, kw_only=True):
    prompt: str | list[str]
    max_tokens: Positive | None = 16  # OpenAI's default for completions

    def text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        if len(self.prompt) != 1:
            raise BadRequest("exactly one prompt is supported", "prompt")
        return self.prompt[0]


# --- answers ---


class Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, done: m.Done) -> Usage:
        return cls(done.prompt_tokens, done.completion_tokens, done.prompt_tokens + done.completion_tokens)


def finish_reason(done: m.Done) -> str:
    # "context": the context filled up, which OpenAI also reports as "length".
    return "stop" if done.reason in ("stop", "cancelled") else "length"


class ModelCard(msgspec.Struct):
    id: str
    context_length: int
    object: str = "model"
    created: int = 0
    owned_by: str = "hearth"


class ModelList(msgspec.Struct):
    data: list[ModelCard]
    object: str = "list"


class ErrorBody(msgspec.Struct):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorAnswer(msgspec.Struct):
    error: ErrorBody


def completion_id(kind: str) -> str:
    return f"{kind}-{time.time_ns():x}"


def chat_answer(cid: str, model: str, text: str, done: m.Done) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason(done),
                "logprobs": None,
            }
        ],
        "usage": msgspec.to_builtins(Usage.of(done)),
    }


def chat_chunk(
    cid: str, model: str, delta: dict[str, str], finish: str | None, usage: Usage | None = None
) -> dict[str, Any]:
    choices = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    chunk: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [] if usage is not None else choices,
    }
    if usage is not None:
        chunk["usage"] = msgspec.to_builtins(usage)
    return chunk


def text_answer(
    cid: str, model: str, text: str | None, finish: str | None, usage: Usage | None = None
) -> dict[str, Any]:
    """A completion, or one chunk of a streamed one (``finish`` None until the last; ``text`` None for
    the usage-only chunk that ends a stream)."""
    choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
    answer: dict[str, Any] = {
        "id": cid,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [] if text is None else [choice],
    }
    if usage is not None:
        answer["usage"] = msgspec.to_builtins(usage)
    return answer
