"""Malformed request bodies, on the API for other apps and on the local API: each is refused as a bad
request that names the problem, nothing is logged as a failure, no request is left active, and the
service answers the next good request."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from hearth.api import local_messages as msg
from hearth.api.local import LocalApi, LocalClient
from hearth.api.openai_http import OpenAiApi
from hearth.core.plan import HOST, even_plan
from hearth.core.profile import read_profile
from hearth.service.node import NodeOptions
from hearth.service.root import Hearth

DEEP = 100_000  # far past any parser's recursion limit
HUGE = 2**70
MANY_DIGITS = "9" * 5000  # past Python's 4300-digit limit for turning text into an int


@asynccontextmanager
async def _serving(model: Path) -> AsyncIterator[tuple[Hearth, str]]:
    """This device's service with ``model`` loaded, its HTTP API on an ephemeral port, its local API."""
    services = Hearth(NodeOptions(name="alpha", host="127.0.0.1", port=0, discovery=False, probe=False))
    await services.start()
    services.api.use(dataclasses.replace(services.api.settings, port=0))
    http, local = OpenAiApi(services), LocalApi(services)
    try:
        await http.start()
        await local.start()
        profile = read_profile(str(model))
        await services.serving.load(profile, even_plan(profile.block_count, [HOST]), 512)
        yield services, services.api.status.url
    finally:
        await local.stop()
        await http.stop()
        await services.stop()


def _chat(model: str, rest: bytes = b"") -> bytes:
    return b'{"model": "%s", "messages": [{"role": "user", "content": "hi"}]%s}' % (model.encode(), rest)


def _completion(model: str, rest: bytes = b"") -> bytes:
    return b'{"model": "%s", "prompt": "Once"%s}' % (model.encode(), rest)


def _bodies(model: str) -> list[tuple[str, bytes, str]]:
    """(route, body, a word the refusal must name)."""
    out: list[tuple[str, bytes, str]] = []
    for route, body in (("/chat/completions", _chat), ("/completions", _completion)):
        out += [
            (route, b"\xff\xfe", "JSON"),
            (route, body(model).replace(b'"hi"', b'"\xff\xfe"').replace(b'"Once"', b'"\xff\xfe"'), "UTF-8"),
            (route, body(model)[:-3], "JSON"),
            (route, body(model, b', "x": ' + b"[" * DEEP + b"]" * DEEP), "deep"),
            (route, body(model, b', "seed": %d' % HUGE), "seed"),
            (route, body(model, b', "seed": ' + MANY_DIGITS.encode()), "seed"),
            (route, body(model, b', "max_tokens": %d' % HUGE), "max_tokens"),
            (route, body(model, b', "max_tokens": "8"'), "max_tokens"),
            (route, body(model, b', "stream": "yes"'), "stream"),
            (route, b"[1, 2]", "object"),
        ]
    out += [
        ("/chat/completions", b'{"model": "%s", "messages": "hi"}' % model.encode(), "messages"),
        ("/completions", b'{"model": "%s", "prompt": 5}' % model.encode(), "prompt"),
    ]
    return out


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_malformed_bodies_to_the_api_for_other_apps_are_bad_requests(
    tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with _serving(tiny_model) as (services, url), aiohttp.ClientSession() as http:
            name = services.serving.served_name()
            for route, body, named in _bodies(name):
                headers = {"Content-Type": "application/json"}
                async with http.post(url + route, data=body, headers=headers) as answer:
                    said = await answer.json(content_type=None)
                what = f"{route} {body[:80]!r}"
                assert answer.status == 400, (what, said)
                assert said["error"]["type"] == "invalid_request_error", (what, said)
                assert named in said["error"]["message"], (what, said)
                assert services._engine.active_request is None, what
                assert services.serving.queue().serving is None, what
            # The model still answers, and no answer is held up by what went before.
            good = _completion(name, b', "max_tokens": 2, "temperature": 0')
            async with http.post(url + "/completions", data=good, headers=headers) as answer:
                assert answer.status == 200, await answer.text()
                assert (await answer.json())["usage"]["completion_tokens"] == 2

    with caplog.at_level(logging.INFO):
        asyncio.run(asyncio.wait_for(scenario(), 120))
    assert not _failures(caplog), _failures(caplog)


def test_malformed_requests_to_the_local_api_are_refused_by_name(
    tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames: list[tuple[str | bytes, str]] = [
        (b"\xff\xfe", "UTF-8"),
        (b'{"op": "pair", "device": "\xff"}', "UTF-8"),
        ('{"op": "status"', "JSON"),
        ('{"op": "status", "x": ' + "[" * DEEP + "]" * DEEP + "}", "deep"),
        (f'{{"op": "pair_code", "attempt": {2**64 + 1}, "code": "123456"}}', "attempt"),
        (f'{{"op": "pair_code", "attempt": {HUGE}, "code": "123456"}}', "large"),
        ('{"op": "donate", "enabled": true, "max_memory": ' + MANY_DIGITS + "}", "large"),
        ('{"op": "pair", "device": 5}', "device"),
        ('{"op": "donate", "enabled": "yes"}', "enabled"),
        ("[1, 2]", "object"),
        ('{"op": 7}', "op"),
    ]

    async def scenario() -> list[tuple[str | bytes, dict]]:
        async with _serving(tiny_model):
            client = await LocalClient.open()
            try:
                answers = [(frame, await client.exchange(frame)) for frame, _ in frames]
                # The connection is still open and the node answers.
                assert (await client.call(msg.Status())).donating is False
                return answers
            finally:
                await client.close()

    with caplog.at_level(logging.INFO):
        answers = asyncio.run(asyncio.wait_for(scenario(), 120))
    for (frame, answer), (_, named) in zip(answers, frames, strict=True):
        assert answer["ok"] is False and named in answer["error"], (frame[:80], answer)
    assert not _failures(caplog), _failures(caplog)


def test_a_request_the_engine_cannot_take_leaves_nothing_active(tiny_model: Path) -> None:
    # Past the API's checks, a value the engine's messages cannot carry fails the one request only.
    from hearth.engine import messages as m
    from hearth.engine.client import EngineError

    async def scenario() -> None:
        async with _serving(tiny_model) as (services, _):
            tokens: list[m.Token] = []
            on_token: Callable[[m.Token], None] = tokens.append
            with pytest.raises(EngineError, match="cannot be sent"):
                await services.serving.generate(m.Generate(0, prompt="Once", seed=HUGE), on_token)
            assert services._engine.active_request is None and services.serving.queue().serving is None
            done = await services.serving.generate(m.Generate(0, prompt="Once", max_tokens=2), on_token)
            assert done.completion_tokens == 2

    asyncio.run(asyncio.wait_for(scenario(), 120))
