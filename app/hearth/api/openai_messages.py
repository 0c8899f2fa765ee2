"""Requests and answers of the OpenAI-compatible HTTP API, in OpenAI's shapes.

Requests are decoded leniently about fields Hearth does not use (clients send many), strictly about
the ones it does. Only what Hearth can honour is accepted: one choice (``n=1``), text content.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

import msgspec

from hearth.api.tools import Call, call_schema
from hearth.service import messages as m

# Every integer has bounds: one the engine's messages cannot carry (past 64 bits) would otherwise fail
# only on its way to the engine, as a server error.
Positive = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
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


class FunctionCall(msgspec.Struct):
    name: str
    arguments: str  # JSON text, as OpenAI sends it


class InToolCall(msgspec.Struct):
    id: str
    function: FunctionCall
    type: Literal["function"] = "function"


class InMessage(msgspec.Struct):
    role: str
    content: str | list[ContentPart] | None = None
    tool_calls: list[InToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        if any(part.type != "text" for part in self.content):
            raise BadRequest("only text content is supported", "messages")
        return "".join(part.text or "" for part in self.content)


# Tools go to the model's template as the client sent them: a field it left out is not rendered as null.
class FunctionSpec(msgspec.Struct, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(msgspec.Struct):
    type: Literal["function"]
    function: FunctionSpec


class ChosenFunction(msgspec.Struct):
    name: str


class ToolChoice(msgspec.Struct):
    """``tool_choice`` naming the one function the answer must call."""

    function: ChosenFunction
    type: Literal["function"] = "function"


class JsonSchemaSpec(msgspec.Struct):
    name: str = "answer"
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(msgspec.Struct):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None

    def schema_text(self) -> str:
        """The schema the answer must match, as ``Sampling.json_schema`` carries it; "" for free text."""
        if self.type == "text":
            return ""
        if self.type == "json_object":
            return ANY_OBJECT
        if self.json_schema is None or self.json_schema.schema is None:
            raise BadRequest(
                "response_format.json_schema.schema is needed when the type is json_schema",
                "response_format.json_schema",
            )
        return schema_text(self.json_schema.schema, "response_format.json_schema.schema")


# What json_object asks for: any JSON object (OpenAI's json mode gives an object, never a bare value).
ANY_OBJECT = '{"type": "object"}'
# llama.cpp turns schemas into grammars whose size grows with the schema; past this a request is refused
# rather than left to build a grammar that takes the engine long to compile.
MAX_SCHEMA_BYTES = 64 * 1024


def schema_text(schema: dict[str, Any], field: str) -> str:
    text = json.dumps(schema, ensure_ascii=False)
    if len(text.encode()) > MAX_SCHEMA_BYTES:
        raise BadRequest(f"{field} is larger than {MAX_SCHEMA_BYTES} bytes", field)
    return text


class Generation(msgspec.Struct, kw_only=True):
    model: str
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Positive | None = None
    temperature: m.Temperature | None = None
    top_p: m.Probability | None = None
    seed: m.Seed | None = None
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
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoice | None = None
    parallel_tool_calls: bool | None = None

    def chat_messages(self) -> list[m.ChatMessage]:
        if not self.messages:
            raise BadRequest("messages must not be empty", "messages")
        return [_chat_message(i, x) for i, x in enumerate(self.messages)]

    def offered_tools(self) -> list[Tool]:
        """The tools the model may call in this answer: none when ``tool_choice`` is "none"."""
        if self.tools is not None and len({t.function.name for t in self.tools}) != len(self.tools):
            raise BadRequest("tools: two tools have the same name", "tools")
        if self.tool_choice is not None and not self.tools and self.tool_choice != "none":
            raise BadRequest("tool_choice needs tools to choose from", "tool_choice")
        if self.tool_choice == "none" or not self.tools:
            return []
        return self.tools

    def forced_tools(self) -> list[Tool]:
        """The tools one of which the answer must call: every one for "required", the named one."""
        tools = self.offered_tools()
        if isinstance(self.tool_choice, ToolChoice):
            named = [t for t in tools if t.function.name == self.tool_choice.function.name]
            if not named:
                raise BadRequest(
                    f"tool_choice names '{self.tool_choice.function.name}', which is not among the tools",
                    "tool_choice",
                )
            return named
        return tools if self.tool_choice == "required" else []

    def sampling(self, n_ctx: int) -> m.Sampling:
        sampling = super().sampling(n_ctx)
        if self.max_completion_tokens is not None and self.max_tokens is None:
            sampling = msgspec.structs.replace(sampling, max_tokens=self.max_completion_tokens)
        if self.response_format is not None:
            sampling = msgspec.structs.replace(sampling, json_schema=self.response_format.schema_text())
        offered, forced = self.offered_tools(), self.forced_tools()
        if offered:
            tools = json.dumps([msgspec.to_builtins(t) for t in offered], ensure_ascii=False)
            sampling = msgspec.structs.replace(sampling, tools=tools)
        if forced:
            if sampling.json_schema:
                raise BadRequest(
                    "response_format cannot hold an answer that must call a tool", "response_format"
                )
            schema = call_schema([(t.function.name, t.function.parameters) for t in forced])
            sampling = msgspec.structs.replace(sampling, json_schema=schema_text(schema, "tools"))
        return sampling


def _chat_message(index: int, message: InMessage) -> m.ChatMessage:
    calls: list[m.ToolCall] = []
    for call in message.tool_calls or []:
        try:
            json.loads(call.function.arguments)
        except ValueError:
            why = f"messages[{index}].tool_calls: the arguments of '{call.function.name}' are not JSON"
            raise BadRequest(why, "messages") from None
        calls.append(m.ToolCall(call.id, call.function.name, call.function.arguments))
    return m.ChatMessage(message.role, message.text(), tuple(calls), message.tool_call_id or "")


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


def finish_reason(done: m.Done, calls: list[Call] | None = None) -> str:
    # "context": the context filled up, which OpenAI also reports as "length".
    if calls:
        return "tool_calls"
    return "stop" if done.reason in ("stop", "cancelled") else "length"


def tool_calls(calls: list[Call], indexed: bool = False) -> list[dict[str, Any]]:
    """``calls`` as a message's ``tool_calls`` (``indexed``: as a streamed delta's, which number them)."""
    out: list[dict[str, Any]] = []
    for i, call in enumerate(calls):
        shown: dict[str, Any] = {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        out.append({"index": i, **shown} if indexed else shown)
    return out


# A model of the library as /v1/models lists it: the one answering, the one on its way, or one that
# a load would make answer (LM Studio's names).
ModelState = Literal["loaded", "loading", "not-loaded"]


class ModelCard(msgspec.Struct):
    id: str
    context_length: int
    state: ModelState = "loaded"
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


def chat_answer(
    cid: str, model: str, text: str, done: m.Done, calls: list[Call] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls(calls)}
    return {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(done, calls),
                "logprobs": None,
            }
        ],
        "usage": msgspec.to_builtins(Usage.of(done)),
    }


def chat_chunk(
    cid: str, model: str, delta: dict[str, Any], finish: str | None, usage: Usage | None = None
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
