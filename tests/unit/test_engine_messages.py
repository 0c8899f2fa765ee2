from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.engine import messages as m


def _body(frame: bytes) -> bytes:
    assert m.frame_length(frame[:4]) == len(frame) - 4
    return frame[4:]


def test_requests_and_events_round_trip() -> None:
    requests = [
        m.LoadModel("/x.gguf", n_ctx=128),
        m.Generate(3, messages=[m.ChatMessage("user", "héllo")], max_tokens=5, temperature=0.0, seed=7),
        m.Cancel(3),
        m.CancelLoad(),
        m.Unload(),
        m.Shutdown(),
    ]
    for request in requests:
        assert m.decode_request(_body(m.encode(request))) == request
    events = [
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
