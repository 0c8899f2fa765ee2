"""Embedding requests as both APIs read them, the embedding engine's messages, and vectors as they are
answered: every bad field refused by name."""

from __future__ import annotations

import base64
import struct

import msgspec
import numpy as np
import pytest

from hearth.api import embedding_messages as emb
from hearth.api.openai_messages import BadRequest
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest as EngineBadRequest
from hearth.service.embeddings import Embedding


def _openai(body: dict[str, object]) -> emb.EmbeddingRequest:
    return emb.decode(msgspec.json.encode(body), emb.EmbeddingRequest)


@pytest.mark.parametrize(
    ("value", "texts", "tokens"),
    [
        ("hello", ("hello",), ()),
        (["a", "b"], ("a", "b"), ()),
        ([1, 2, 3], (), ((1, 2, 3),)),
        ([[1, 2], [3]], (), ((1, 2), (3,))),
    ],
)
def test_openai_takes_every_shape_of_input(value: object, texts: tuple[str, ...], tokens: tuple) -> None:
    inputs = _openai({"model": "x", "input": value}).inputs()
    assert (inputs.texts, inputs.tokens) == (texts, tokens)
    assert len(inputs) == len(texts) + len(tokens)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ([], "empty"),
        ("", "empty string"),
        (["a", ""], r"input\[1\] is an empty string"),
        ({"text": "a"}, "must be a string"),
        (7, "must be a string"),
        (["a", 7], "must be a string"),
        ([True, 1], "must be a string"),
        ([[1, -1]], r"input\[0\] must be a non-empty list of token IDs"),
        ([[]], r"input\[0\] must be a non-empty"),
        ([[1], "a"], "must be a string"),
        (["a"] * (emb.MAX_INPUTS + 1), "at most 2048"),
        ([[1]] * (emb.MAX_INPUTS + 1), "at most 2048"),
    ],
)
def test_openai_refuses_bad_input_by_name(value: object, said: str) -> None:
    with pytest.raises(BadRequest, match=said) as refused:
        _openai({"model": "x", "input": value}).inputs()
    assert refused.value.param == "input"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "x", "input": "a", "encoding_format": "hex"}, "encoding_format"),
        ({"model": "x", "input": "a", "dimensions": 0}, "dimensions"),
        ({"model": "", "input": "a"}, "model"),
    ],
)
def test_openai_refuses_bad_fields_by_name(body: dict[str, object], param: str) -> None:
    with pytest.raises(BadRequest, match=param) as refused:
        _openai(body).check()
    assert refused.value.param == param


def test_a_width_the_model_does_not_have_is_refused() -> None:
    request = _openai({"model": "x", "input": "a", "dimensions": 64})
    request.check()
    request.check_dimensions(64)
    with pytest.raises(BadRequest, match="vectors of 576 dimensions") as refused:
        request.check_dimensions(576)
    assert refused.value.param == "dimensions"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"model": "x"}', "input"),
        (b'{"input": "a"}', "model"),
        (b'{"model": 7, "input": "a"}', "model"),
        (b'{"model": "x", "input": "a", "dimensions": "7"}', "dimensions"),
        (b'{"model": "x", "input": "a", "encoding_format": 1}', "encoding_format"),
        (b"{not json", None),
        (b'{"model": "\xff"}', None),
        (b"[" * 100_000, None),
    ],
)
def test_malformed_bodies_name_the_field_when_there_is_one(body: bytes, param: str | None) -> None:
    with pytest.raises(BadRequest) as refused:
        emb.decode(body, emb.EmbeddingRequest)
    assert refused.value.param == param


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        (0, 0.0),
        (300, 300.0),
        (2.5, 2.5),
        (-1, -1.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("30s", 30.0),
        ("500ms", 0.5),
        ("0", 0.0),
        ("300", 300.0),
        ("-1", -1.0),
        ("-5m", -1.0),
    ],
)
def test_keep_alive_as_ollama_reads_it(value: str | int | float | None, seconds: float | None) -> None:
    assert emb.keep_alive_seconds(value) == seconds


@pytest.mark.parametrize(
    "value", ["soon", "", "5 m", "m5", "5d", "1h-3m", "nan", "inf", float("inf"), True, "²", "9" * 5000]
)
def test_a_keep_alive_that_is_no_duration_is_refused(value: str | float) -> None:
    with pytest.raises(BadRequest, match="keep_alive"):
        emb.keep_alive_seconds(value)


def test_ollama_embed_takes_a_text_or_texts_and_nothing_to_load() -> None:
    def read(body: dict[str, object]) -> emb.EmbedRequest:
        return emb.decode(msgspec.json.encode(body), emb.EmbedRequest)

    assert read({"model": "x", "input": "a"}).inputs().texts == ("a",)
    assert read({"model": "x", "input": ["a", "b"]}).inputs().texts == ("a", "b")
    assert len(read({"model": "x"}).inputs()) == len(read({"model": "x", "input": []}).inputs()) == 0
    assert read({"model": "x", "keep_alive": "1m"}).keep_alive_s() == 60.0
    assert read({"model": "x"}).truncate is True
    with pytest.raises(BadRequest, match=r"input\[1\] is an empty string"):
        read({"model": "x", "input": ["a", ""]}).inputs()
    with pytest.raises(BadRequest, match="must be a string"):
        read({"model": "x", "input": [[1, 2]]}).inputs()
    with pytest.raises(BadRequest, match="options"):
        emb.decode(b'{"model": "x", "options": {"temperature": "hot"}}', emb.EmbedRequest)
    with pytest.raises(BadRequest, match="prompt"):
        emb.decode(b'{"model": "x", "prompt": 7}', emb.LegacyEmbedRequest)


def test_the_engine_messages_carry_texts_or_tokens_and_survive_the_wire() -> None:
    request = m.Embed(3, texts=["a", "b"], truncate=False)
    assert m.decode_embed_request(m.encode_embed(request)[4:]) == request
    assert request.count == 2
    answer = m.Embedded(3, 2, struct.pack("<4f", 1, 0, 0, 1), 5, 0.1)
    assert m.decode_embed_event(m.encode_embed(answer)[4:]) == answer
    with pytest.raises(EngineBadRequest, match="not both"):
        m.Embed(1, texts=["a"], tokens=[[1]])
    with pytest.raises(EngineBadRequest, match="at most"):
        m.Embed(1, texts=["a"] * (m.MAX_EMBED_INPUTS + 1))
    # On the wire the same checks hold, and what the embedding engine does not take is refused.
    both = msgspec.msgpack.encode({"type": "embed", "request_id": 1, "texts": ["a"], "tokens": [[1]]})
    for body in (both, m.encode(m.Cancel(1))[4:], b"\xc1"):
        with pytest.raises(m.ProtocolError):
            m.decode_embed_request(body)
    with pytest.raises(m.ProtocolError):
        m.decode_embed_event(m.encode(m.Token(1, 2, "x"))[4:])


def test_vectors_answer_as_floats_and_as_openais_base64() -> None:
    rows = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], dtype="<f4")
    done = Embedding("x", 3, rows.tobytes(), 4, 0.0, 0.01)
    assert len(done) == 2
    assert done.floats() == rows.tolist()
    assert struct.unpack("<3f", base64.b64decode(done.base64(1))) == (0.0, 0.0, 1.0)
    answer = emb.EmbeddingList.of(done, "base64")
    assert [item.index for item in answer.data] == [0, 1] and answer.usage.prompt_tokens == 4
    assert emb.EmbeddingList.of(done, "float").data[0].embedding == rows[0].tolist()
    assert len(Embedding("x", 3, b"", 0, 0.0, 0.0)) == 0
