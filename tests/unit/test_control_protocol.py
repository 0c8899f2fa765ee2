from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core import control
from hearth.core.control import Close, ControlSession, Deliver, Send, State
from hearth.core.wire import encode

ME = control.Hello(control.PROTOCOL_VERSION, "0.1.0", "build-a", "ME", "me")
PEER = control.Hello(control.PROTOCOL_VERSION, "0.1.0", "build-a", "PEER", "peer")
TELEMETRY = control.Telemetry(1.0, 8 << 30, 4 << 30, 0, 8, 12.5, "CPU", ["CPU"])


def test_hellos_open_the_session_and_messages_flow() -> None:
    session = ControlSession(ME, "PEER")
    assert session.opening() == Send(ME)
    assert session.receive(encode(PEER)) == [Deliver(PEER)]
    assert session.state is State.OPEN and session.peer == PEER
    assert session.receive(encode(TELEMETRY)) == [Deliver(TELEMETRY)]


def test_a_version_mismatch_is_refused_naming_both_versions() -> None:
    session = ControlSession(ME, "PEER")
    newer = control.Hello(control.PROTOCOL_VERSION + 1, "9.0.0", "build-b", "PEER", "peer")
    actions = session.receive(encode(newer))
    error = next(a.message for a in actions if isinstance(a, Send))
    assert isinstance(error, control.Error) and error.code == "version"
    assert (
        f"speaks {control.PROTOCOL_VERSION}" in error.message
        and f"other {control.PROTOCOL_VERSION + 1}" in error.message
    )
    assert "9.0.0" in error.message and "0.1.0" in error.message
    assert any(isinstance(a, Close) and a.code == control.CLOSE_VERSION for a in actions)
    assert session.state is State.CLOSED and session.receive(encode(PEER)) == []


def test_anything_before_hello_closes() -> None:
    session = ControlSession(ME, "PEER")
    actions = session.receive(encode(TELEMETRY))
    assert actions == [Close(control.CLOSE_POLICY, "expected hello, got telemetry")]


def test_a_hello_for_another_device_closes() -> None:
    session = ControlSession(ME, "SOMEONE-ELSE")
    assert isinstance(session.receive(encode(PEER))[0], Close)


def test_bad_messages_get_errors_then_the_connection_closes() -> None:
    session = ControlSession(ME, "PEER")
    session.receive(encode(PEER))
    for _ in range(control.MAX_BAD_MESSAGES - 1):
        actions = session.receive(b"{not json")
        assert len(actions) == 1
        assert isinstance(actions[0], Send) and isinstance(actions[0].message, control.Error)
    # A good message does not wipe the slate: the next bad one is the last.
    assert session.receive(encode(TELEMETRY)) == [Deliver(TELEMETRY)]
    actions = session.receive('{"type": "nope"}')
    assert isinstance(actions[0], Send) and isinstance(actions[0].message, control.Error)
    assert isinstance(actions[-1], Close) and actions[-1].code == control.CLOSE_POLICY
    assert session.state is State.CLOSED and session.receive(encode(TELEMETRY)) == []


def test_good_messages_between_bad_ones_do_not_keep_the_connection_open() -> None:
    # A peer that sends a valid message after every bad one is still counted, over the connection's life.
    session = ControlSession(ME, "PEER")
    session.receive(encode(PEER))
    closed_after = None
    for i in range(1, 1000):
        session.receive(encode(TELEMETRY))
        if any(isinstance(a, Close) for a in session.receive(encode(PEER))):  # hello again: out of order
            closed_after = i
            break
    assert closed_after == control.MAX_BAD_MESSAGES and session.state is State.CLOSED


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=80), st.text(max_size=80), st.sampled_from([encode(PEER), encode(TELEMETRY)])
        ),
        max_size=12,
    )
)
def test_any_input_yields_actions_never_exceptions(inputs) -> None:
    session = ControlSession(ME, "PEER")
    for data in inputs:
        for action in session.receive(data):
            assert isinstance(action, Send | Close | Deliver)
