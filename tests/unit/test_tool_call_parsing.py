"""Reading tool calls out of an answer, holding a streamed answer back while it may be one, the schema
that forces a call, and the request fields of tools and structured output refused by name."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hearth.api import ollama_messages as oll
from hearth.api import openai_messages as oai
from hearth.api.tools import CallWatch, call_schema, parse_calls

NAMES = ["get_weather", "get_time"]


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>',
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}',
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Oslo"}}',
        '[TOOL_CALLS][{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}]',
        '  <tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}',  # cut at the end
    ],
)
def test_each_models_way_of_writing_a_call_is_read(text: str) -> None:
    calls = parse_calls(text, NAMES)
    assert calls is not None and [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Oslo"})
    ]
    assert calls[0].id.startswith("call_")


def test_several_calls_come_in_order_with_ids_of_their_own() -> None:
    text = (
        '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>\n'
        '<tool_call>{"name": "get_time", "arguments": {"zone": "UTC"}}</tool_call>'
    )
    calls = parse_calls(text, NAMES)
    assert calls is not None and [c.name for c in calls] == NAMES and calls[0].id != calls[1].id


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Oslo is mild.",
        '{"name": "launch_rockets", "arguments": {}}',  # not one of the request's tools
        '{"name": "get_weather", "arguments": [1, 2]}',
        '<tool_call>{"name": "get_weather", "arguments": {</tool_call>',
        '{"answer": 42}',
        "",
    ],
)
def test_text_that_is_not_wholly_calls_is_an_answer_in_words(text: str) -> None:
    assert parse_calls(text, NAMES) is None


def test_a_streamed_answer_in_words_streams_and_a_call_is_held_whole() -> None:
    words = CallWatch(NAMES)
    assert words.feed("  ") == "" and words.feed("Hel") == "  Hel" and words.feed("lo") == "lo"
    assert words.finish() == ("", [])
    call = CallWatch(NAMES)
    pieces = ["<tool", '_call>{"name": "get_time", ', '"arguments": {"zone": "CET"}}', "</tool_call>"]
    assert [call.feed(p) for p in pieces] == ["", "", "", ""]
    rest, calls = call.finish()
    assert rest == "" and [(c.name, c.arguments) for c in calls] == [("get_time", '{"zone": "CET"}')]
    # Held back because it began like one, text that is no call comes out at the end.
    brace = CallWatch(NAMES)
    assert brace.feed("{not json") == ""
    assert brace.finish() == ("{not json", [])
    # Without tools nothing is held.
    assert CallWatch([]).feed("{") == "{"


def test_the_forcing_schema_names_the_tool_and_holds_its_parameters() -> None:
    params: dict[str, Any] = {"type": "object", "properties": {"zone": {"type": "string"}}}
    one = call_schema([("get_time", params)])
    assert one["properties"]["name"] == {"const": "get_time"} and one["properties"]["arguments"] == params
    both = call_schema([("get_time", params), ("get_weather", None)])
    assert [o["properties"]["name"]["const"] for o in both["anyOf"]] == ["get_time", "get_weather"]
    assert both["anyOf"][1]["properties"]["arguments"] == {"type": "object"}


def _chat(**fields: Any) -> oai.ChatRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    return msgspec.json.decode(json.dumps(body), type=oai.ChatRequest)


TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def test_response_format_and_tools_become_the_engines_sampling() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    shaped = _chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert json.loads(shaped.sampling(512).json_schema) == schema
    assert json.loads(_chat(response_format={"type": "json_object"}).sampling(512).json_schema) == {
        "type": "object"
    }
    assert _chat(response_format={"type": "text"}).sampling(512).json_schema == ""
    offered = _chat(tools=[TOOL]).sampling(512)
    assert json.loads(offered.tools) == [TOOL] and offered.json_schema == ""
    forced = _chat(tools=[TOOL], tool_choice="required").sampling(512)
    assert json.loads(forced.json_schema)["properties"]["name"] == {"const": "get_time"}
    assert _chat(tools=[TOOL], tool_choice="none").sampling(512).tools == ""


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "x"}}}, "tool_choice"),
        ({"tools": [TOOL, TOOL]}, "tools"),
        (
            {"tools": [TOOL], "tool_choice": "required", "response_format": {"type": "json_object"}},
            "response_format",
        ),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {"enum": ["x" * 70000]}}}},
            "schema",
        ),
    ],
)
def test_fields_that_cannot_hold_are_refused_by_name(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(oai.BadRequest) as refused:
        _chat(**fields).sampling(512)
    assert param in str(refused.value) and refused.value.param


def test_a_tool_call_in_the_history_must_carry_json_arguments() -> None:
    call: Any = {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": "{oops"}}
    request = _chat(messages=[{"role": "assistant", "content": None, "tool_calls": [call]}])
    with pytest.raises(oai.BadRequest, match=r"messages\[0\]\.tool_calls"):
        request.chat_messages()
    call["function"]["arguments"] = '{"zone": "UTC"}'
    (message,) = _chat(messages=[{"role": "assistant", "tool_calls": [call]}]).chat_messages()
    assert message.tool_calls[0].name == "get_time" and message.tool_calls[0].arguments == '{"zone": "UTC"}'


def test_ollama_options_become_sampling_and_bad_ones_are_named() -> None:
    options = oll.Options(temperature=0.0, top_k=1, seed=7, num_predict=-1, stop=["\n"], num_ctx=256)
    sampling = options.sampling(1024, "", "")
    assert (sampling.temperature, sampling.top_k, sampling.seed, sampling.stop) == (0.0, 1, 7, ["\n"])
    assert sampling.max_tokens == 1024  # no limit: the context's room
    assert oll.Options(num_predict=5).sampling(1024, "", "").max_tokens == 5
    with pytest.raises(oai.BadRequest, match=r"options\.num_ctx"):
        oll.Options(num_ctx=4096).sampling(1024, "", "")
    assert oll.format_schema("json") == oai.ANY_OBJECT and oll.format_schema(None) == ""
    with pytest.raises(oai.BadRequest, match="format"):
        oll.format_schema("yaml")
    with pytest.raises(msgspec.ValidationError, match=r"options\.top_k"):
        msgspec.json.decode(b'{"model": "m", "options": {"top_k": -1}}', type=oll.ChatRequest)
