from __future__ import annotations

import dataclasses
import struct
from typing import Any, get_args

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.core.formats import ModelFormat
from hearth.core.plan import parse_plan
from hearth.core.profile import CACHE_TYPES, ModelProfile, shaped_profile
from hearth.engine import messages as m
from hearth.engine.errors import BadRequest


def _body(frame: bytes) -> bytes:
    assert m.frame_length(frame[:4]) == len(frame) - 4
    return frame[4:]


def test_requests_and_events_round_trip() -> None:
    requests: list[m.Request] = [
        m.LoadModel("/x.gguf", n_ctx=128),
        m.Generate(3, messages=[m.ChatMessage("user", "héllo")], max_tokens=5, temperature=0.0, seed=7),
        m.Cancel(3),
        m.CancelLoad(),
        m.Unload(),
        m.Shutdown(),
    ]
    for request in requests:
        assert m.decode_request(_body(m.encode(request))) == request
    events: list[m.Event] = [
        m.Ready(1, "0.3.36", True),
        m.LoadProgress(0.5),
        m.Loaded("/x.gguf", 128, 384, True, 0.1, {"CPU KV": 1024}, "chatml"),
        m.Token(3, 42, "ab"),
        m.Done(3, "length", 4, 5, 0.01, 0.02),
        m.Failure("nope", 3),
        m.Unloaded(),
    ]
    for event in events:
        assert m.decode_event(_body(m.encode(event))) == event


def test_decode_tokens_per_s_excludes_the_first_token() -> None:
    assert m.Done(1, "length", 1, 11, 0.5, 2.0).decode_tokens_per_s == pytest.approx(5.0)
    assert m.Done(1, "stop", 1, 1, 0.5, 0.0).decode_tokens_per_s == 0.0


def test_oversized_frames_are_refused_before_reading() -> None:
    with pytest.raises(m.ProtocolError, match="exceeds"):
        m.frame_length(struct.pack(">I", m.MAX_FRAME + 1))


@pytest.mark.parametrize(
    "body",
    [b"", b"\xc1", b"\x81\xa4type\xa4nope", b"\x81\xa4type\xa8generate", b"\x92\x01\x02"],
)
def test_garbage_bodies_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(m.ProtocolError):
        m.decode_request(body)
    with pytest.raises(m.ProtocolError):
        m.decode_event(body)


def test_an_event_is_not_a_request() -> None:
    with pytest.raises(m.ProtocolError):
        m.decode_request(_body(m.encode(m.Token(1, 2, "x"))))


@given(st.binary(max_size=256))
def test_random_bytes_never_escape_as_other_errors(body: bytes) -> None:
    for decode in (m.decode_request, m.decode_event):
        try:
            decode(body)
        except m.ProtocolError:
            pass


# --- the engine's typed domain ---

MIB = 2**20


def _profile(fmt: ModelFormat = ModelFormat.GGUF) -> ModelProfile:
    shaped = shaped_profile(
        [10 * MIB] * 8,
        embedding_length=256,
        feed_forward_length=512,
        head_count=4,
        head_count_kv=2,
        vocab_size=32000,
        head_bytes=4 * MIB,
    )
    return dataclasses.replace(shaped, path="/models/m", format=fmt)


def test_reasons_and_kinds_travel_as_the_same_strings() -> None:
    for reason in get_args(m.StopReason):
        raw = msgspec.msgpack.decode(_body(m.encode(m.Done(1, reason, 1, 1, 0.1, 0.1))))
        assert raw["reason"] == reason
    raw = msgspec.msgpack.decode(_body(m.encode(m.Failure("too long", 1, "context"))))
    assert raw == {"type": "error", "message": "too long", "request_id": 1, "kind": "context"}
    assert get_args(m.StopReason) == ("stop", "length", "context", "cancelled")


def test_an_unknown_reason_or_cache_type_on_the_wire_is_a_protocol_error() -> None:
    done = _body(m.encode(m.Done(1, "stop", 1, 1, 0.1, 0.1)))
    with pytest.raises(m.ProtocolError, match="reason"):
        m.decode_event(done.replace(b"stop", b"oops"))
    load = _body(m.encode(m.LoadModel("/x.gguf", cache_type="q8_0")))
    with pytest.raises(m.ProtocolError, match="cache_type"):
        m.decode_request(load.replace(b"q8_0", b"q9_0"))


def test_the_cache_types_are_those_the_memory_model_sizes() -> None:
    assert set(m.CACHE_TYPES) == set(CACHE_TYPES)
    for name in m.CACHE_TYPES:
        assert m.LoadModel("/x.gguf", cache_type=name).cache_type == name


def test_a_cache_type_or_backend_from_outside_is_checked_where_the_request_is_made() -> None:
    with pytest.raises(BadRequest, match=r"unknown KV cache type 'f12'.*q8_0"):
        m.LoadModel("/x.gguf", cache_type="f12")  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="unknown backend 'onnx'"):
        m.LoadModel("/x.gguf", backend="onnx")  # type: ignore[arg-type]
    assert m.parse_cache_type("q4_0") == "q4_0"


def test_a_batch_too_small_for_its_answers_at_once_is_refused_before_llama_cpp_aborts() -> None:
    with pytest.raises(BadRequest, match="a batch of 2 tokens cannot hold 4 answers at once"):
        m.LoadModel("/x.gguf", n_batch=2, parallel=4)
    assert m.LoadModel("/x.gguf", n_batch=4, parallel=4).parallel == 4


def test_a_pooled_plan_becomes_llama_cpp_s_placement_exactly() -> None:
    plan = parse_plan("host:0-1,desk:2-5,laptop:6-7", 8)
    load = m.LoadModel.for_plan(
        _profile(), plan, 2048, rpc_servers=("127.0.0.1:1", "127.0.0.1:2"), threads=3, cache_type="q8_0"
    )
    # 6 layers and the output layer off the host: 4 on the first device, 2 + output on the last.
    assert (load.n_gpu_layers, load.tensor_split) == (7, [4.0, 3.0]) == plan.llama_params()
    assert load.rpc_servers == ["127.0.0.1:1", "127.0.0.1:2"]
    assert (load.path, load.n_ctx, load.n_threads, load.cache_type, load.backend) == (
        "/models/m",
        2048,
        3,
        "q8_0",
        "llama",
    )
    assert m.decode_request(_body(m.encode(load))) == load


def test_a_local_plan_loads_every_layer_here_with_the_model_s_backend() -> None:
    plan = parse_plan("host:0-7", 8)
    load = m.LoadModel.for_plan(_profile(), plan, 512)
    assert (load.n_gpu_layers, load.tensor_split, load.rpc_servers, load.backend) == (0, None, [], "llama")
    assert m.LoadModel.for_plan(_profile(ModelFormat.MLX), plan, 512).backend == "mlx"


def test_a_plan_that_its_endpoints_or_its_model_cannot_run_is_refused() -> None:
    plan = parse_plan("host:0-3,desk:4-7", 8)
    with pytest.raises(BadRequest, match="1 other devices, but 0 are connected"):
        m.LoadModel.for_plan(_profile(), plan, 512)
    with pytest.raises(BadRequest, match="pooling needs the model as GGUF"):
        m.LoadModel.for_plan(_profile(ModelFormat.MLX), plan, 512, rpc_servers=["127.0.0.1:1"])
    with pytest.raises(BadRequest, match="unknown KV cache type"):
        m.LoadModel.for_plan(_profile(), plan, 512, rpc_servers=["127.0.0.1:1"], cache_type="f8")


def test_an_estimate_of_a_plan_stands_in_for_its_remote_devices() -> None:
    plan = parse_plan("host:0-1,desk:2-5,laptop:6-7", 8)
    estimate = m.Estimate.for_plan(_profile(), plan, 4096, cache_type="q4_0")
    assert estimate.remote_devices == 2 and estimate.load.rpc_servers == []
    assert (estimate.load.n_gpu_layers, estimate.load.tensor_split) == plan.llama_params()
    assert estimate.load.cache_type == "q4_0" and estimate.load.n_ctx == 4096


# The edges of what OpenAI's and Ollama's APIs accept, and one step past each.
_EDGES = [
    ("temperature", 2.0, 2.01),
    ("temperature", 0.0, -0.01),
    ("top_p", 1.0, 1.5),
    ("min_p", 0.0, -0.5),
    ("top_k", 2**31 - 1, 2**31),
    ("repeat_penalty", 0.0, -1.0),
    ("repeat_penalty", 100.0, 101.0),
    ("seed", 2**63 - 1, 2**63),
    ("seed", -(2**63), -(2**63) - 1),
]


@pytest.mark.parametrize(("field", "inside", "outside"), _EDGES)
def test_a_request_from_another_device_keeps_to_what_the_apis_accept(
    field: str, inside: float, outside: float
) -> None:
    from hearth.api.ollama_messages import Options

    inside_kw: dict[str, Any] = {field: inside}
    outside_kw: dict[str, Any] = {field: outside}
    assert m.sampling_problem(m.Sampling(**inside_kw)) is None
    assert f"$.{field}" in (m.sampling_problem(m.Sampling(**outside_kw)) or "")
    # Ollama's options take every sampling number: the same edges, refused and accepted alike.
    drawn = msgspec.convert(inside_kw, Options).sampling(512, "", "")
    assert drawn == m.Sampling(max_tokens=512, **inside_kw)
    with pytest.raises(msgspec.ValidationError, match=field):
        msgspec.convert(outside_kw, Options)


def test_ollama_limits_an_answer_only_by_a_positive_num_predict() -> None:
    from hearth.api.ollama_messages import Options

    for num_predict, limit in ((None, 512), (-2, 512), (-1, 512), (0, 512), (1, 1), (24, 24)):
        assert Options(num_predict=num_predict).sampling(512, "", "").max_tokens == limit, num_predict


def test_a_repeat_penalty_of_0_leaves_repeats_alone_as_1_does() -> None:
    assert [m.Sampling(repeat_penalty=p).repeat_factor for p in (0.0, 1.0, 1.3)] == [1.0, 1.0, 1.3]


def test_numbers_that_are_not_numbers_are_out_of_range() -> None:
    for value in (float("nan"), float("inf"), -float("inf")):
        assert m.sampling_problem(m.Sampling(temperature=value)) is not None
        assert m.sampling_problem(m.Sampling(top_p=value)) is not None


def test_every_number_a_sampler_draws_from_has_a_range() -> None:
    numbers = {
        f
        for f, t in zip(m.Sampling.__struct_fields__, m.Sampling.__annotations__.values(), strict=True)
        if str(t) in ("float", "int", "int | None") and f != "max_tokens"
    }
    assert numbers == set(m._Drawn.__struct_fields__)
