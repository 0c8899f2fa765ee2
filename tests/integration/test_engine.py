from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import llama_cpp
import pytest

from hearth.core import llama_log
from hearth.core.profile import read_profile
from hearth.engine import backends
from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineDied, EngineError
from hearth.models import synthetic

CHATML_HI = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def run(coro: Coroutine[Any, Any, Any], timeout: float = 120.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def direct_llama(model: Path) -> llama_cpp.Llama:
    """llama-cpp-python used directly, in this process, its backends loaded as this build needs."""
    backends.load()
    return llama_cpp.Llama(str(model), n_ctx=512, verbose=False)


def direct_greedy(model: Path, text: str, n: int, *, add_bos: bool = True) -> list[int]:
    """The oracle: llama-cpp-python used directly, in this process."""
    llm = direct_llama(model)
    try:
        prompt = llm.tokenize(text.encode(), add_bos=add_bos, special=True)
        out: list[int] = []
        for token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0):
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                break
            out.append(token)
            if len(out) == n:
                break
        return out
    finally:
        llm.close()


async def engine_tokens(client: EngineClient, request: m.Generate) -> tuple[list[int], str, m.Done]:
    tokens: list[m.Token] = []
    done = await client.generate(request, tokens.append)
    return [t.id for t in tokens if t.id >= 0], "".join(t.text for t in tokens), done


def test_greedy_output_equals_direct_llama_cpp(tiny_model: Path) -> None:
    async def scenario() -> tuple[list[int], str, list[int], m.Done, m.Loaded]:
        client = EngineClient()
        try:
            loaded = await client.load(m.LoadModel(str(tiny_model), n_ctx=512))
            ids, text, _ = await engine_tokens(
                client, m.Generate(0, prompt="The quick brown fox", max_tokens=48, temperature=0.0)
            )
            chat_ids, _, chat_done = await engine_tokens(
                client, m.Generate(0, messages=[m.ChatMessage("user", "hi")], max_tokens=48, temperature=0.0)
            )
            return ids, text, chat_ids, chat_done, loaded
        finally:
            await client.close()

    ids, text, chat_ids, chat_done, loaded = run(scenario())
    assert loaded.has_chat_template and loaded.n_vocab == synthetic.TINY.n_vocab
    assert len(ids) > 10
    assert ids == direct_greedy(tiny_model, "The quick brown fox", 48)
    llm = direct_llama(tiny_model)
    assert text == llm.detokenize(ids, prev_tokens=llm.tokenize(b"The quick brown fox")).decode(
        "utf-8", "replace"
    )
    llm.close()
    # The chat path renders the model's own template (ChatML here), without an extra BOS.
    assert chat_ids == direct_greedy(tiny_model, CHATML_HI, 48, add_bos=False)
    llm = direct_llama(tiny_model)
    assert chat_done.prompt_tokens == len(llm.tokenize(CHATML_HI.encode(), add_bos=False, special=True))
    llm.close()


@pytest.mark.parametrize("cache_type", ["f16", "q8_0"])
def test_kv_bytes_match_what_llama_cpp_allocates(tmp_path: Path, cache_type: m.CacheType) -> None:
    # Head dim 64, so that a q8_0 cache (blocks of 32) is allowed.
    spec = synthetic.variant(synthetic.TINY, n_embd=256, n_head=4, n_head_kv=2, n_layer=4, n_ctx=4096)
    path = synthetic.write_model(tmp_path / "kv.gguf", spec)
    profile = read_profile(str(path))

    async def scenario() -> list[m.Loaded]:
        client = EngineClient()
        try:
            return [
                await client.load(m.LoadModel(str(path), n_ctx=n_ctx, cache_type=cache_type))
                for n_ctx in (256, 1000, 4096)
            ]
        finally:
            await client.close()

    for loaded in run(scenario()):
        allocated = llama_log.total(loaded.buffers, "KV")
        predicted = profile.kv_bytes(loaded.n_ctx, cache_type=cache_type)
        assert allocated > 0
        assert abs(predicted - allocated) / allocated < 0.02, (loaded.n_ctx, predicted, allocated)


def _long(request_id: int = 0) -> m.Generate:
    return m.Generate(request_id, prompt="x", max_tokens=15000, temperature=0.0, ignore_eos=True)


def test_cancel_mid_stream_stops_within_a_second(tiny_model: Path) -> None:
    async def scenario() -> tuple[m.Done, float, m.Done]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(tiny_model), n_ctx=16384))
            seen = asyncio.Event()
            count = 0

            def on_token(token: m.Token) -> None:
                nonlocal count
                count += 1
                if count == 50:
                    seen.set()

            task = asyncio.create_task(client.generate(_long(), on_token))
            await seen.wait()
            asked = time.perf_counter()
            await client.cancel()
            done = await task
            stopped_after = time.perf_counter() - asked
            after = await client.generate(
                m.Generate(0, prompt="hi", max_tokens=5, temperature=0.0), lambda t: None
            )
            return done, stopped_after, after
        finally:
            await client.close()

    done, stopped_after, after = run(scenario())
    assert done.reason == "cancelled"
    assert 50 <= done.completion_tokens < 15000
    assert stopped_after < 1.0
    assert after.reason in ("length", "stop")


def test_killed_engine_gives_a_clear_error_and_the_next_request_works(tiny_model: Path) -> None:
    async def scenario() -> tuple[str, int, int, list[int]]:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(tiny_model), n_ctx=16384))
            first_pid = client.pid
            assert first_pid is not None

            def on_token(token: m.Token) -> None:
                if token.id >= 0 and client.pid == first_pid:
                    os.kill(first_pid, signal.SIGKILL)

            with pytest.raises(EngineDied) as info:
                await client.generate(_long(), on_token)
            ids, _, _ = await engine_tokens(
                client, m.Generate(0, prompt="The quick brown fox", max_tokens=16, temperature=0.0)
            )
            return str(info.value), first_pid, client.pid or 0, ids
        finally:
            await client.close()

    message, first_pid, second_pid, ids = run(scenario())
    assert "SIGKILL" in message
    assert second_pid and second_pid != first_pid
    assert ids == direct_greedy(tiny_model, "The quick brown fox", 16)


def test_bad_requests_do_not_end_the_engine(tmp_path: Path, tiny_model: Path) -> None:
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(tiny_model.read_bytes()[:4000])

    async def scenario() -> None:
        client = EngineClient()
        try:
            with pytest.raises(EngineError, match="no model is loaded"):
                await client.generate(m.Generate(0, prompt="hi"), lambda t: None)
            await client.start()
            pid = client.pid
            with pytest.raises(EngineError, match="could not load"):
                await client.load(m.LoadModel(str(corrupt)))
            with pytest.raises(EngineError, match="unknown KV cache type"):
                await client.load(m.LoadModel(str(tiny_model), cache_type="f12"))  # type: ignore[arg-type]
            # Garbage that frames correctly but is no request: answered, and the engine carries on.
            assert client._proc is not None and client._proc.stdin is not None
            client._proc.stdin.write(len(b"\xc1").to_bytes(4, "big") + b"\xc1")
            with pytest.raises(EngineError, match="bad request"):
                await client.load(m.LoadModel(str(tiny_model), n_ctx=256))
            loaded = await client.load(m.LoadModel(str(tiny_model), n_ctx=256))
            assert loaded.n_ctx == 256 and client.pid == pid
            with pytest.raises(EngineError, match="context holds 256"):
                await client.generate(m.Generate(0, prompt="word " * 400), lambda t: None)
            done = await client.generate(m.Generate(0, prompt="hi", max_tokens=3), lambda t: None)
            assert done.completion_tokens <= 3 and client.pid == pid
            await client.unload()
            assert client.loaded is None
            with pytest.raises(EngineError, match="no model is loaded"):
                await client.generate(m.Generate(0, prompt="hi"), lambda t: None)
            assert client.pid == pid
        finally:
            await client.close()

    run(scenario())


def test_load_reports_progress_and_sigabrt_is_explained(tiny_model: Path) -> None:
    async def scenario() -> tuple[list[float], str]:
        client = EngineClient()
        try:
            progress: list[float] = []
            await client.load(m.LoadModel(str(tiny_model), n_ctx=16384), progress.append)
            pid = client.pid
            assert pid is not None

            def abort(token: m.Token) -> None:
                if client.pid == pid:
                    os.kill(pid, signal.SIGABRT)

            with pytest.raises(EngineDied) as info:
                await client.generate(_long(), abort)
            return progress, str(info.value)
        finally:
            await client.close()

    progress, message = run(scenario())
    assert progress and progress[-1] == pytest.approx(1.0)
    assert progress == sorted(progress)
    assert "SIGABRT" in message


def test_a_file_without_a_chat_template_is_formatted_by_its_turn_markers(tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, chat_template=False, name="base")
    bare = synthetic.write_model(tmp_path / "base.gguf", spec)
    templated = synthetic.write_model(tmp_path / "tuned.gguf", synthetic.TINY)
    question = m.Generate(0, messages=[m.ChatMessage("user", "hi")], max_tokens=24, temperature=0.0)

    async def scenario() -> tuple[m.Loaded, list[int], m.Loaded, list[int]]:
        client = EngineClient()
        try:
            bare_loaded = await client.load(m.LoadModel(str(bare), n_ctx=512))
            bare_ids, _, _ = await engine_tokens(client, question)
            tuned_loaded = await client.load(m.LoadModel(str(templated), n_ctx=512))
            tuned_ids, _, _ = await engine_tokens(client, question)
            return bare_loaded, bare_ids, tuned_loaded, tuned_ids
        finally:
            await client.close()

    bare_loaded, bare_ids, tuned_loaded, tuned_ids = run(scenario())
    assert not bare_loaded.has_chat_template and bare_loaded.chat_format == "chatml"
    assert tuned_loaded.chat_format == "model"
    # llama.cpp's built-in ChatML renders the conversation as the file's template does; the prompt starts
    # with the vocabulary's BOS, as llama.cpp's own server does for a built-in template.
    assert bare_ids == direct_greedy(bare, CHATML_HI, 24, add_bos=True) and len(bare_ids) > 5
    assert tuned_ids == direct_greedy(templated, CHATML_HI, 24, add_bos=False)
