"""Requests and answers of the Ollama API, in Ollama's shapes (``docs/api.md`` of Ollama).

As with OpenAI's, fields Hearth does not use are ignored (clients send many: ``keep_alive``,
``num_gpu``, ``images`` where there are none) and the ones it uses are checked strictly, a bad one
refused by name.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from hearth.api.openai_messages import (
    ANY_OBJECT,
    MAX_STOPS,
    BadRequest,
    Tool,
    schema_text,
)
from hearth.api.tools import Call, new_id
from hearth.service import messages as m

# The Ollama release whose API this one follows; clients check it before using tools and formats.
VERSION = "0.9.0"
# num_predict: -1 without a limit, -2 until the context is full, and 0 (which Ollama's runner does
# not limit either): all three mean the context's room here.
Predict = Annotated[int, msgspec.Meta(ge=-2, le=2**31 - 1)]
ContextSize = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class Options(msgspec.Struct, kw_only=True):
    temperature: m.Temperature | None = None
    top_p: m.Probability | None = None
    top_k: m.TopK | None = None
    min_p: m.Probability | None = None
    repeat_penalty: m.Penalty | None = None
    seed: m.Seed | None = None
    num_predict: Predict | None = None
    num_ctx: ContextSize | None = None
    stop: list[str] | None = None

    def sampling(self, n_ctx: int, json_schema: str, tools: str) -> m.Sampling:
        stops = list(self.stop or [])
        if len(stops) > MAX_STOPS:
            raise BadRequest(f"options.stop: at most {MAX_STOPS} stop sequences are allowed", "options.stop")
        if self.num_ctx is not None and self.num_ctx > n_ctx:
            # The model is loaded with its context; answering in less is what a larger one would do
            # for every prompt that fits, so only a larger one is refused.
            raise BadRequest(
                f"options.num_ctx: the model is loaded with a context of {n_ctx} tokens, "
                f"not {self.num_ctx} (change it where the model is loaded)",
                "options.num_ctx",
            )
        d = m.Sampling()
        # Ollama limits an answer only by a positive num_predict: -1, -2 and 0 all run to the
        # context's end (or the model's).
        limit = self.num_predict if self.num_predict is not None and self.num_predict > 0 else n_ctx
        return m.Sampling(
            max_tokens=limit,
            temperature=d.temperature if self.temperature is None else self.temperature,
            top_k=d.top_k if self.top_k is None else self.top_k,
            top_p=d.top_p if self.top_p is None else self.top_p,
            min_p=d.min_p if self.min_p is None else self.min_p,
            repeat_penalty=d.repeat_penalty if self.repeat_penalty is None else self.repeat_penalty,
            seed=self.seed,
            stop=stops,
            json_schema=json_schema,
            tools=tools,
        )


def format_schema(fmt: str | dict[str, Any] | None) -> str:
    """``format`` as ``Sampling.json_schema``: "json" any JSON object, a schema that schema."""
    if fmt is None or fmt == "":
        return ""
    if fmt == "json":
        return ANY_OBJECT
    if isinstance(fmt, str):
        raise BadRequest(f"format must be \"json\" or a JSON schema, not '{fmt}'", "format")
    return schema_text(fmt, "format")


class OllamaFunctionCall(msgspec.Struct):
    name: str
    arguments: dict[str, Any] = {}


class OllamaToolCall(msgspec.Struct):
    function: OllamaFunctionCall


class OllamaMessage(msgspec.Struct):
    role: str
    content: str = ""
    images: list[str] | None = None
    tool_calls: list[OllamaToolCall] | None = None
    tool_name: str | None = None
    thinking: str | None = None

    def chat_message(self, index: int) -> m.ChatMessage:
        if self.images:
            raise BadRequest(f"messages[{index}].images: only text is supported", "messages")
        calls = tuple(
            m.ToolCall(new_id(), c.function.name, json.dumps(c.function.arguments, ensure_ascii=False))
            for c in self.tool_calls or []
        )
        return m.ChatMessage(self.role, self.content, calls)


class _Generation(msgspec.Struct, kw_only=True):
    model: str
    stream: bool = True  # Ollama streams unless told not to
    format: str | dict[str, Any] | None = None
    options: Options | None = None
    keep_alive: str | int | float | None = None

    def sampling(self, n_ctx: int, tools: str = "") -> m.Sampling:
        return (self.options or Options()).sampling(n_ctx, format_schema(self.format), tools)


class ChatRequest(_Generation, kw_only=True):
    messages: list[OllamaMessage] = []
    tools: list[Tool] | None = None

    def chat_messages(self) -> list[m.ChatMessage]:
        return [x.chat_message(i) for i, x in enumerate(self.messages)]

    def tool_names(self) -> list[str]:
        tools = self.tools or []
        if len({t.function.name for t in tools}) != len(tools):
            raise BadRequest("tools: two tools have the same name", "tools")
        return [t.function.name for t in tools]

    def tools_text(self) -> str:
        if not self.tools:
            return ""
        return json.dumps([msgspec.to_builtins(t) for t in self.tools], ensure_ascii=False)


class GenerateRequest(_Generation, kw_only=True):
    prompt: str = ""
    system: str | None = None
    raw: bool = False
    suffix: str | None = None
    images: list[str] | None = None

    def chat_messages(self) -> list[m.ChatMessage]:
        """The prompt as a conversation, which the model's template turns into its prompt (as Ollama
        does unless ``raw``)."""
        system = [m.ChatMessage("system", self.system)] if self.system else []
        return [*system, m.ChatMessage("user", self.prompt)]

    def check(self) -> None:
        if self.images:
            raise BadRequest("images: only text is supported", "images")
        if self.suffix:
            raise BadRequest("suffix: filling in the middle is not supported", "suffix")


class ShowRequest(msgspec.Struct, kw_only=True):
    model: str = ""
    name: str = ""  # older clients' field

    @property
    def wanted(self) -> str:
        if not (self.model or self.name):
            raise BadRequest("model: name the model to show", "model")
        return self.model or self.name


# --- answers ---


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def ns(seconds: float) -> int:
    return int(seconds * 1e9)


def done_reason(done: m.Done, calls: list[Call] | None = None) -> str:
    if calls:
        return "stop"
    return "stop" if done.reason in ("stop", "cancelled") else "length"


def timings(done: m.Done, started: float) -> dict[str, Any]:
    return {
        "total_duration": ns(time.perf_counter() - started),
        "load_duration": 0,
        "prompt_eval_count": done.prompt_tokens,
        "prompt_eval_duration": ns(done.ttft_s),
        "eval_count": done.completion_tokens,
        "eval_duration": ns(done.decode_s),
    }


def tool_calls(calls: list[Call]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "function": {"index": i, "name": c.name, "arguments": json.loads(c.arguments)}}
        for i, c in enumerate(calls)
    ]


def chat_piece(model: str, text: str, calls: list[Call] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = tool_calls(calls)
    return {"model": model, "created_at": now(), "message": message, "done": False}


def chat_end(
    model: str, text: str, done: m.Done, started: float, calls: list[Call] | None = None
) -> dict[str, Any]:
    answer = chat_piece(model, text, calls)
    answer.update(done=True, done_reason=done_reason(done, calls), **timings(done, started))
    return answer


def generate_piece(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "created_at": now(), "response": text, "done": False}


def generate_end(model: str, text: str, done: m.Done, started: float) -> dict[str, Any]:
    answer = generate_piece(model, text)
    answer.update(done=True, done_reason=done_reason(done), **timings(done, started))
    return answer
