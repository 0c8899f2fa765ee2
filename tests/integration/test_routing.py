"""An app's request answered by another paired device that has the same model loaded: when the model
here is busy, or when the request names that device; and refused by a device whose user has not
allowed it. Three `hearth serve` processes with the real SmolLM2 on loopback, one answer at a time each."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import openai
import pytest

from harness.nodes import NodeProcess, ollama_url, pair, serve, wait_until
from harness.routing import LONG, NAME, QUESTION, SMOL, marks
from harness.routing import health as _health
from hearth.core import control, wire
from hearth.core.profile import read_profile
from hearth.engine import messages as em
from hearth.mesh.channel import ControlChannel, dial
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.pairing_client import request_pairing
from hearth.models import synthetic
from hearth.service.answering import WORKING_S
from hearth.service.routing import QUIET_S

pytestmark = marks()


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


def _streamed(url: str, device: str = "") -> str:
    """``_ask``'s answer, streamed: its pieces joined."""
    stream = _client(url, device).chat.completions.create(
        model=NAME,
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=24,
        temperature=0,
        stream=True,
    )
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[NodeProcess, str]]]:
    assert SMOL is not None
    root = tmp_path_factory.mktemp("routing")
    started: dict[str, tuple[NodeProcess, str]] = {}
    try:
        # alpha is where the apps ask; beta lets paired devices' apps be answered; gamma does not;
        # delta has another model loaded.
        other_model = synthetic.write_model(root / "other.gguf", synthetic.TINY)
        for name, host, model, extra in (
            ("alpha", "127.0.0.1", SMOL, []),
            ("beta", "127.0.0.2", SMOL, ["--answer-devices"]),
            ("gamma", "127.0.0.3", SMOL, ["--no-answer-devices"]),
            ("delta", "127.0.0.4", other_model, []),
        ):
            started[name] = serve(root / name, name, host, model, "--parallel", "1", "--threads", "1", *extra)
        alpha, delta = started["alpha"][0], started["delta"][0]
        for other in ("beta", "gamma"):
            assert pair(alpha, started[other][0]).returncode == 0
        assert pair(delta, started["beta"][0]).returncode == 0
        for url in (started["alpha"][1], started["delta"][1]):
            assert wait_until(
                lambda url=url: [d["name"] for d in _health(url)["devices"]["offering"]] == ["beta"], 30
            ), _health(url)
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
    assert _streamed(alpha, "beta") == direct
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


def _counts(url: str) -> tuple[int, int]:
    devices = _health(url)["devices"]
    return devices["answered_for_them"], devices["refused_for_them"]


def test_a_model_that_only_a_paired_device_has_loaded_is_listed_and_answered_there(household) -> None:
    delta, beta = household["delta"][1], household["beta"][1]
    served_here = _health(delta)["model"]
    assert served_here != NAME
    cards = {card.id: card for card in _client(delta).models.list()}
    assert NAME in cards and cards[NAME].owned_by == "beta", cards
    with urllib.request.urlopen(ollama_url(household["delta"][0]) + "/api/tags", timeout=10) as r:
        tags = {t["name"]: t for t in json.loads(r.read())["models"]}
    assert tags[NAME]["remote_host"] == "beta" and tags[NAME]["size"] > 0, tags
    before = _counts(beta)
    direct = _ask(beta)
    assert _ask(delta) == direct
    assert _streamed(delta) == direct
    assert _counts(beta)[0] == before[0] + 2
    # delta loaded nothing for it: its own model is still the one it serves.
    assert _health(delta)["model"] == served_here
    # Naming beta for the model delta itself serves: beta answers with another, and says so.
    with pytest.raises(openai.APIStatusError) as other:
        _client(delta, "beta").chat.completions.create(
            model=served_here, messages=[{"role": "user", "content": QUESTION}], max_tokens=4
        )
    assert other.value.status_code == 503
    assert f"beta answers with {NAME}, not {served_here}" in str(other.value), other.value
    # A model nobody offers is refused as before.
    with pytest.raises(openai.NotFoundError):
        _client(delta).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": QUESTION}], max_tokens=4
        )


def test_a_device_whose_user_has_not_allowed_it_is_not_asked_and_the_app_is_told_why(household) -> None:
    alpha, beta, gamma = household["alpha"][1], household["beta"][1], household["gamma"][1]
    with pytest.raises(openai.APIStatusError) as refused:
        _ask(alpha, device="gamma")
    assert refused.value.status_code == 503
    assert "gamma answers no other device's apps now" in str(refused.value), refused.value
    assert "its Settings do not allow it" in str(refused.value)
    assert _counts(gamma) == (0, 0)
    with pytest.raises(openai.APIStatusError) as unknown:
        _ask(alpha, device="nobody")
    assert unknown.value.status_code == 503
    assert "no connected paired device is called 'nobody'" in str(unknown.value)
    # Naming this device answers here: beta is not asked.
    before = _counts(beta)
    assert _ask(alpha, device="alpha") == _ask(beta)
    assert _counts(beta) == before


class _Held:
    """A long streamed answer that holds a model's place until ``end``, read on its own thread."""

    def __init__(self, url: str, device: str = "") -> None:
        self.stream = _client(url, device).chat.completions.create(
            model=NAME,
            messages=[{"role": "user", "content": LONG}],
            max_tokens=1500,
            temperature=0,
            stream=True,
        )
        chunks = iter(self.stream)
        next(chunks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, args=(chunks,), daemon=True)
        self._thread.start()

    def _drain(self, chunks: Iterator[Any]) -> None:
        try:
            for _ in chunks:
                if self._stop.is_set():
                    break
        finally:
            self.stream.close()

    def end(self) -> None:
        self._stop.set()
        self._thread.join(60)


def test_a_request_that_finds_the_model_busy_is_answered_by_the_device_with_a_place(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    direct = _ask(beta)
    sent = _health(alpha)["devices"]["sent"]
    answered = _health(beta)["devices"]["answered_for_them"]
    held = _Held(alpha)  # takes alpha's only place
    try:
        assert wait_until(lambda: _health(alpha)["answering"] == 1, 30)
        busy = _health(alpha)
        assert busy["answering"] == 1 and busy["answers_at_once"] == 1, busy
        started = time.monotonic()
        routed = _ask(alpha)
        took = time.monotonic() - started
        assert _health(alpha)["answering"] == 1, "the long answer ended before the second was asked"
    finally:
        held.end()
    print(f"answered by beta while alpha was busy, in {took:.2f} s")
    assert routed == direct
    assert _health(alpha)["devices"]["sent"] == sent + 1
    assert _health(beta)["devices"]["answered_for_them"] == answered + 1


def test_the_answering_devices_own_apps_keep_their_place_and_a_request_moves_once_one_is_free(
    household,
) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    direct = _ask(beta)
    sent = _health(alpha)["devices"]["sent"]
    held_here = _Held(alpha, "alpha")
    held_there = _Held(beta)  # beta's own app
    try:
        assert wait_until(lambda: _health(beta)["answering"] == 1 and _health(alpha)["answering"] == 1, 30)
        # beta takes no other device's request while its own app has its only place.
        with pytest.raises(openai.APIStatusError) as full:
            _ask(alpha, device="beta")
        assert full.value.status_code == 503 and "beta has no place free now" in str(full.value), full.value
        answer: list[str] = []
        asking = threading.Thread(target=lambda: answer.append(_ask(alpha)), daemon=True)
        asking.start()
        # Both places are taken: it waits in alpha's line, and beta's line stays empty.
        assert wait_until(lambda: _health(alpha)["waiting"] == 1, 30), _health(alpha)
        assert _health(beta)["waiting"] == 0
        held_there.end()
        asking.join(120)
        assert answer == [direct]
        assert _health(alpha)["answering"] == 1, "alpha's long answer ended before beta's place was free"
        assert _health(alpha)["waiting"] == 0
    finally:
        held_there.end()
        held_here.end()
    assert _health(alpha)["devices"]["sent"] == sent + 1


def test_an_app_that_leaves_mid_answer_stops_it_on_the_device_answering(household) -> None:
    alpha, beta = household["alpha"][1], household["beta"][1]
    answered = _counts(beta)[0]
    stream = _client(alpha, "beta").chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": LONG}], max_tokens=1500, temperature=0, stream=True
    )
    next(iter(stream))
    assert _health(beta)["devices"]["answering_for_them"] == 1
    stream.close()
    assert wait_until(lambda: _health(beta)["devices"]["answering_for_them"] == 0, 30), _health(beta)
    assert wait_until(lambda: _health(beta)["answering"] == 0, 30)
    # Stopped, not run to its 1,500 tokens: beta never gave the answer whole.
    assert _counts(beta)[0] == answered
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


class _Mallory:
    """A paired device that speaks the control channel itself, as a hostile one would."""

    def __init__(self, name: str = "mallory") -> None:
        cert, key = make_certificate()
        self.identity = Identity(name, cert, key, "file")
        self.hello = control.Hello(control.PROTOCOL_VERSION, "0", "none", self.identity.device_id, name)

    async def pair_and_dial(self, node: NodeProcess) -> ControlChannel:
        mark = len(node.lines)
        attempt = await request_pairing(node.address, self.identity)
        await attempt.finish(await asyncio.to_thread(node.code, mark))
        cert = (node.home / "config" / "device-cert.pem").read_text()
        return await dial(node.address, self.identity, cert, node.device_id, self.hello)


@contextlib.asynccontextmanager
async def _offering(
    node: NodeProcess, url: str, mallory: _Mallory, places: int
) -> AsyncIterator[ControlChannel]:
    """``mallory`` paired with ``node`` (its API at ``url``), its telemetry offering SmolLM2 with
    ``places`` free, once ``node`` lists it as offering; the channel is closed after."""
    chan = await mallory.pair_and_dial(node)
    offer = control.Offer(NAME, read_profile(str(SMOL)).file_size, 4096, places, 0, 0)
    telemetry = control.Telemetry(time.time(), 1, 1, 0, 1, 0.0, "CPU", ["CPU"], answers=offer)

    async def offering() -> None:
        while True:
            await chan.send(telemetry)
            await asyncio.sleep(0.5)

    offers = asyncio.create_task(offering())
    name = mallory.identity.name
    try:
        await asyncio.to_thread(
            wait_until,
            lambda: name in [d["name"] for d in _health(url)["devices"]["offering"]],
            30,
        )
        yield chan
    finally:
        offers.cancel()
        await chan.close()


async def _next(chan: ControlChannel, kind: type, timeout: float = 60, skipped: list | None = None) -> Any:
    """The next message of ``kind`` (others, such as telemetry, are skipped, and kept in ``skipped``;
    a refusal is not)."""
    async with asyncio.timeout(timeout):
        while True:
            message = control.decode(await chan.ws.recv())
            if isinstance(message, kind):
                return message
            assert not isinstance(message, control.NotAnswered), message
            if skipped is not None:
                skipped.append(message)


def _generate(**kw: Any) -> msgspec.Raw:
    kw.setdefault("temperature", 0)
    request = em.Generate(0, messages=[em.ChatMessage("user", QUESTION)], **kw)
    return msgspec.Raw(msgspec.json.encode(request))


def test_a_hostile_host_gets_clear_refusals_and_cannot_outrun_the_model(household) -> None:
    beta_proc, beta = household["beta"]
    size = read_profile(str(SMOL)).file_size

    async def scenario() -> None:
        chan = await _Mallory().pair_and_dial(beta_proc)
        try:
            await chan.ws.send(wire.encode(control.Ask(1, NAME, size, msgspec.Raw(b'{"type": "generate"}'))))
            refused = await _next(chan, control.NotAnswered)
            assert (refused.request_id, refused.refused) == (1, True) and "malformed" in refused.reason
            # Out of the ranges this device's own APIs accept, and only those: each refusal names its field.
            wilds = ({"temperature": -1.0}, {"temperature": 2.5}, {"top_p": 7.0}, {"seed": 1 << 70})
            for wild in (*wilds, {"top_k": 1 << 31}, {"repeat_penalty": -1.0}, {"min_p": float("nan")}):
                await chan.ws.send(wire.encode(control.Ask(1, NAME, size, _generate(**wild))))
                refused = await _next(chan, control.NotAnswered)
                assert refused.refused and "malformed" in refused.reason, (wild, refused)
                assert f"$.{next(iter(wild))}" in refused.reason, (wild, refused)
            # No token asked for: answered with none, as beta's own engine answers it.
            await chan.ws.send(wire.encode(control.Ask(5, NAME, size, _generate(max_tokens=0))))
            assert await _next(chan, control.Taken) == control.Taken(5, working=False)
            nothing = msgspec.json.decode((await _next(chan, control.Answered)).done, type=em.Done)
            assert (nothing.reason, nothing.completion_tokens) == ("length", 0), nothing
            await chan.ws.send(wire.encode(control.Ask(2, "another-model", size, _generate())))
            refused = await _next(chan, control.NotAnswered)
            assert refused.refused and f"has {NAME} loaded, not another-model" in refused.reason
            # Asked never to stop: the length is held to the context and the model's end is kept.
            # Asked as a version before ``Working`` would ask, it is never sent one.
            await chan.ws.send(
                wire.encode(control.Ask(3, NAME, size, _generate(max_tokens=10**9, ignore_eos=True)))
            )
            assert await _next(chan, control.Taken) == control.Taken(3, working=False)
            # The same request again while it is answered, and replies for requests beta never
            # asked: refused, and dropped.
            await chan.ws.send(wire.encode(control.Ask(3, NAME, size, _generate())))
            await chan.ws.send(wire.encode(control.Told(77, msgspec.Raw(b'{"type":"token"}'))))
            await chan.ws.send(wire.encode(control.Answered(78, msgspec.Raw(b"{}"))))
            again = await _next(chan, control.NotAnswered)
            assert again.request_id == 3 and again.refused, again
            assert again.reason == "that request is already being answered", again
            skipped: list[Any] = []
            answered_3 = await _next(chan, control.Answered, 120, skipped)
            done = msgspec.json.decode(answered_3.done, type=em.Done)
            assert done.reason == "stop" and 0 < done.completion_tokens < 4096, done
            assert not [s for s in skipped if isinstance(s, control.Working)], skipped
            # Stopping an answer it asked for (one that would run on for 1,500 tokens) frees beta's
            # place at once, and the answer is not given.
            answered = _counts(beta)[0]
            long = em.Generate(0, messages=[em.ChatMessage("user", LONG)], temperature=0, max_tokens=1500)
            await chan.ws.send(
                wire.encode(control.Ask(4, NAME, size, msgspec.Raw(msgspec.json.encode(long)), working=True))
            )
            assert await _next(chan, control.Taken) == control.Taken(4, working=True)
            await _next(chan, control.Told)
            # While it answers, beta says so every few seconds, tokens or not.
            assert (await _next(chan, control.Working, 3 * WORKING_S)).request_id == 4
            await chan.ws.send(wire.encode(control.StopAsking(4)))
            assert await asyncio.to_thread(
                wait_until, lambda: _health(beta)["devices"]["answering_for_them"] == 0, 10
            )
            assert _counts(beta)[0] == answered
        finally:
            await chan.close()

    asyncio.run(asyncio.wait_for(scenario(), 240))
    assert _health(beta)["answering"] == 0


def test_an_answering_device_that_says_too_much_fails_only_that_answer(household) -> None:
    alpha_proc, alpha = household["alpha"]

    async def scenario() -> None:
        async with _offering(alpha_proc, alpha, _Mallory(), 1) as chan:
            asked = asyncio.create_task(asyncio.to_thread(_ask, alpha, "mallory"))
            ask = await _next(chan, control.Ask)
            await chan.send(control.Taken(ask.request_id))
            token = msgspec.Raw(msgspec.json.encode(em.Token(0, 1, "spam ")))
            for _ in range(200):  # far past the 24 tokens asked for
                await chan.send(control.Told(ask.request_id, token))
            with pytest.raises(openai.APIStatusError) as failed:
                await asyncio.wait_for(asked, 60)
            assert failed.value.status_code == 500
            assert "mallory sent more than the 24 tokens asked for" in str(failed.value), failed.value
            stopped = await _next(chan, control.StopAsking)
            assert stopped.request_id == ask.request_id
            # Empty words are no tokens, but they count: sent without end, they fail the answer too
            # (and never pass for progress).
            asked = asyncio.create_task(asyncio.to_thread(_ask, alpha, "mallory"))
            ask = await _next(chan, control.Ask)
            await chan.send(control.Taken(ask.request_id))
            empty = msgspec.Raw(msgspec.json.encode(em.Token(0, -1, "")))
            for _ in range(200):
                await chan.send(control.Told(ask.request_id, empty))
            with pytest.raises(openai.APIStatusError) as failed:
                await asyncio.wait_for(asked, 60)
            assert "mallory sent more than the 24 tokens asked for" in str(failed.value), failed.value
            assert (await _next(chan, control.StopAsking)).request_id == ask.request_id

    asyncio.run(asyncio.wait_for(scenario(), 180))
    # alpha answers its apps as before.
    assert _ask(alpha, device="alpha")


def test_an_answering_device_that_goes_quiet_fails_its_answer_and_one_at_work_is_waited_for(
    household,
) -> None:
    alpha_proc, alpha = household["alpha"]

    async def scenario() -> None:
        async with _offering(alpha_proc, alpha, _Mallory("trudy"), 2) as chan:
            at_work = asyncio.create_task(asyncio.to_thread(_ask, alpha, "trudy"))
            first = await _next(chan, control.Ask)
            quiet = asyncio.create_task(asyncio.to_thread(_ask, alpha, "trudy"))
            second = await _next(chan, control.Ask)
            assert first.working and second.working
            for ask in (first, second):
                await chan.send(control.Taken(ask.request_id, working=True))
            # Past the time a quiet device is given, one that says it is at work is still waited for
            # (as while it reads a long prompt), and the quiet one's answer has failed.
            taken = time.monotonic()
            while time.monotonic() - taken < QUIET_S + 4:
                await chan.send(control.Working(first.request_id))
                await asyncio.sleep(WORKING_S / 2)
            assert quiet.done() and not at_work.done()
            with pytest.raises(openai.APIStatusError) as failed:
                await quiet
            assert f"trudy said nothing of the answer for {QUIET_S:.0f} s" in str(failed.value)
            assert (await _next(chan, control.StopAsking)).request_id == second.request_id
            for piece in ("at ", "work"):
                token = msgspec.Raw(msgspec.json.encode(em.Token(0, 1, piece)))
                await chan.send(control.Told(first.request_id, token))
            done = em.Done(0, "stop", 5, 2, 0.1, 0.1)
            await chan.send(control.Answered(first.request_id, msgspec.Raw(msgspec.json.encode(done))))
            assert await asyncio.wait_for(at_work, 30) == "at work"

    asyncio.run(asyncio.wait_for(scenario(), 120))
