from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core import pairing
from hearth.core.pairing import Acceptor, CodeBook, Initiator, PairingError, Phase
from hearth.mesh.identity import make_certificate
from hearth.mesh.trust import cert_der_from_pem


def _cert() -> tuple[str, bytes]:
    pem, _ = make_certificate()
    return pem.decode(), cert_der_from_pem(pem.decode())


I_PEM, I_DER = _cert()
A_PEM, A_DER = _cert()
M_PEM, M_DER = _cert()


def _run(initiator: Initiator, acceptor: Acceptor, code_for_initiator: str | None, now: float = 0.0) -> None:
    """Drive both machines; ``code_for_initiator=None`` types the code the acceptor shows."""
    challenge = acceptor.receive(initiator.start(), now, I_DER)
    assert isinstance(challenge, pairing.PairChallenge)
    shown = acceptor.code_to_show
    assert initiator.receive(challenge) is None
    spake = initiator.enter_code(code_for_initiator or shown)
    reply = acceptor.receive(spake, now)
    confirm = initiator.receive(reply)
    final = acceptor.receive(confirm, now)
    initiator.receive(final)


def test_the_right_code_pairs_both_sides() -> None:
    book = CodeBook()
    initiator = Initiator("laptop", I_PEM, I_DER, A_DER, my_port=4711)
    acceptor = Acceptor("desktop", A_DER, book)
    _run(initiator, acceptor, None)
    assert initiator.phase is acceptor.phase is Phase.PAIRED
    assert (initiator.peer_name, acceptor.peer_name, acceptor.peer_port) == ("desktop", "laptop", 4711)
    assert acceptor.peer_cert_pem == I_PEM
    assert book.pending == {}  # used codes are gone


def test_a_wrong_code_fails_burns_the_code_and_backs_off() -> None:
    book = CodeBook()
    for attempt in range(pairing.FREE_FAILURES):
        initiator = Initiator("laptop", I_PEM, I_DER, A_DER)
        acceptor = Acceptor("desktop", A_DER, book)
        with pytest.raises(PairingError, match="wrong code"):
            _run(initiator, acceptor, "000000" if attempt else "999999", now=attempt)
        assert acceptor.phase is Phase.FAILED
        assert book.pending == {}
    assert book.retry_after(pairing.FREE_FAILURES) > 0
    refused = Acceptor("desktop", A_DER, book).receive(
        Initiator("laptop", I_PEM, I_DER, A_DER).start(), pairing.FREE_FAILURES, I_DER
    )
    assert isinstance(refused, pairing.PairResult) and "too many wrong codes" in refused.reason
    first_wait = book.retry_after(pairing.FREE_FAILURES)
    book.record_failure(pairing.FREE_FAILURES + 1)
    assert book.retry_after(pairing.FREE_FAILURES + 1) > first_wait  # it grows


def test_an_expired_code_is_refused() -> None:
    book = CodeBook()
    initiator = Initiator("laptop", I_PEM, I_DER, A_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    initiator.receive(acceptor.receive(initiator.start(), 0.0, I_DER))
    late = acceptor.receive(initiator.enter_code(acceptor.code_to_show or ""), pairing.CODE_TTL_S + 1)
    assert isinstance(late, pairing.PairResult) and "expired" in late.reason


def test_a_pending_code_is_reused_by_a_second_request_from_the_same_device() -> None:
    book = CodeBook()
    first = Acceptor("desktop", A_DER, book)
    first.receive(Initiator("laptop", I_PEM, I_DER, A_DER).start(), 0.0, I_DER)
    code = first.code_to_show
    second = Acceptor("desktop", A_DER, book)
    second.receive(Initiator("laptop", I_PEM, I_DER, A_DER).start(), 5.0, I_DER)
    assert second.code_to_show is None  # nothing new to show
    assert book.valid_code(pairing.fingerprint(I_DER), 5.0) == code


def test_a_relay_with_its_own_certificate_fails_even_with_the_right_code() -> None:
    # The initiator's TLS ended at the relay, so it binds the relay's certificate, not the acceptor's.
    book = CodeBook()
    initiator = Initiator("laptop", I_PEM, I_DER, M_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    with pytest.raises(PairingError):
        _run(initiator, acceptor, None)
    assert acceptor.phase is Phase.FAILED
    assert book.pending == {} and book.failures


def test_an_active_man_in_the_middle_running_spake2_with_each_side_fails() -> None:
    book = CodeBook()
    real_acceptor = Acceptor("desktop", A_DER, book)
    # Toward the acceptor the attacker is an initiator with its own certificate and a guessed code.
    attacker_out = Initiator("laptop", M_PEM, M_DER, A_DER)
    real_acceptor.receive(attacker_out.start(), 0.0, M_DER)
    attacker_out.receive(pairing.PairChallenge("desktop", 120))
    reply = real_acceptor.receive(
        attacker_out.enter_code("123456" if real_acceptor.code_to_show != "123456" else "654321"), 0.0
    )
    confirm = attacker_out.receive(reply)
    refused = real_acceptor.receive(confirm, 0.0)
    assert isinstance(refused, pairing.PairResult) and not refused.ok
    # Toward the real initiator it is an acceptor with a code book of its own; the user types the
    # code the real acceptor showed, which the attacker does not know.
    victim = Initiator("laptop", I_PEM, I_DER, M_DER)
    fake_acceptor = Acceptor("desktop", M_DER, CodeBook())
    victim.receive(fake_acceptor.receive(victim.start(), 0.0, I_DER))
    reply = fake_acceptor.receive(victim.enter_code(real_acceptor.code_to_show or "000000"), 0.0)
    refusal = fake_acceptor.receive(victim.receive(reply), 0.0)
    assert isinstance(refusal, pairing.PairResult) and not refusal.ok
    with pytest.raises(PairingError):
        victim.receive(refusal)
    assert victim.phase is Phase.FAILED


def test_an_abandoned_key_exchange_counts_as_a_wrong_code() -> None:
    book = CodeBook()
    initiator = Initiator("laptop", I_PEM, I_DER, A_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    initiator.receive(acceptor.receive(initiator.start(), 0.0, I_DER))
    acceptor.receive(initiator.enter_code("111111"), 0.0)
    acceptor.abandon(1.0)
    assert book.pending == {} and book.failures == [1.0]


@pytest.mark.parametrize("typed", ["12345", "1234567", "abcdef", "12 34 5x", ""])
def test_codes_are_six_digits(typed: str) -> None:
    with pytest.raises(PairingError, match="6 digits"):
        pairing.normalize_code(typed)
    assert pairing.normalize_code(" 123-456 ") == "123456"


_messages = st.one_of(
    st.builds(
        pairing.PairRequest, st.integers(0, 3), st.text(max_size=10), st.just(I_PEM), st.integers(0, 70000)
    ),
    st.builds(pairing.PairChallenge, st.text(max_size=10), st.floats(0, 200)),
    st.builds(pairing.PairSpake, st.binary(max_size=40)),
    st.builds(pairing.PairConfirm, st.binary(max_size=40)),
    st.builds(pairing.PairResult, st.booleans(), st.text(max_size=10)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_messages, max_size=6))
def test_any_message_sequence_leaves_the_acceptor_answering_not_crashing(sequence) -> None:
    book = CodeBook()
    acceptor = Acceptor("desktop", A_DER, book)
    for message in sequence:
        reply = acceptor.receive(message, 0.0, I_DER)
        assert reply is None or isinstance(
            reply, pairing.PairChallenge | pairing.PairSpake | pairing.PairResult | pairing.PairConfirm
        )
    assert acceptor.phase is not Phase.PAIRED  # nobody can pair without the code


@given(st.binary(max_size=300))
def test_random_bytes_are_wire_errors(data: bytes) -> None:
    try:
        pairing.decode(data)
    except pairing.wire.WireError:
        pass


def test_a_requester_name_with_control_characters_is_kept_escaped() -> None:
    book = CodeBook()
    acceptor = Acceptor("desktop", A_DER, book)
    initiator = Initiator("x\r\x1b[2Kalpha", I_PEM, I_DER, A_DER)
    acceptor.receive(initiator.start(), 0.0, I_DER)
    assert acceptor.peer_name == "x\\r\\x1b[2Kalpha"
