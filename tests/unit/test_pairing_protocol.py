from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.core import pairing
from hearth.core.pairing import Acceptor, CodeBook, Initiator, PairingError, Phase
from hearth.core.wire import WireError
from hearth.mesh.identity import make_certificate
from hearth.mesh.trust import cert_der_from_pem


def _cert() -> tuple[str, bytes, bytes]:
    pem, key = make_certificate()
    return pem.decode(), cert_der_from_pem(pem.decode()), key


I_PEM, I_DER, I_KEY = _cert()
A_PEM, A_DER, A_KEY = _cert()
M_PEM, M_DER, M_KEY = _cert()
KEYS = {I_PEM: I_KEY, A_PEM: A_KEY, M_PEM: M_KEY}


def _initiator(
    name: str, pem: str, der: bytes, peer_der: bytes, port: int = 0, key: bytes = b""
) -> Initiator:
    """An initiator that signs with the key of ``pem`` (or with ``key``, to forge)."""
    signing_key = key or KEYS[pem]
    return Initiator(name, pem, der, peer_der, lambda data: pairing.sign_proof(signing_key, data), port)


def _sent(message: pairing.PairMessage | None) -> pairing.PairMessage:
    """A machine's answer, which the scenario needs there to hand to the other side."""
    assert message is not None
    return message


def _request(initiator: Initiator, acceptor: Acceptor, now: float, der: bytes) -> pairing.PairMessage | None:
    """The request and its proof of key; returns the acceptor's last answer (a challenge or a refusal)."""
    prove = acceptor.receive(initiator.start(), now, der)
    if not isinstance(prove, pairing.PairProve):
        return prove
    return acceptor.receive(_sent(initiator.receive(prove)), now)


def _run(initiator: Initiator, acceptor: Acceptor, code_for_initiator: str | None, now: float = 0.0) -> None:
    """Drive both machines; ``code_for_initiator=None`` types the code the acceptor shows."""
    challenge = _request(initiator, acceptor, now, I_DER)
    assert isinstance(challenge, pairing.PairChallenge)
    shown = acceptor.code_to_show
    assert shown is not None
    assert initiator.receive(challenge) is None
    spake = initiator.enter_code(code_for_initiator or shown)
    reply = acceptor.receive(spake, now)
    confirm = initiator.receive(_sent(reply))
    final = acceptor.receive(_sent(confirm), now)
    initiator.receive(_sent(final))


def test_the_right_code_pairs_both_sides() -> None:
    book = CodeBook()
    initiator = _initiator("laptop", I_PEM, I_DER, A_DER, 4711)
    acceptor = Acceptor("desktop", A_DER, book)
    _run(initiator, acceptor, None)
    assert initiator.phase is acceptor.phase is Phase.PAIRED
    assert (initiator.peer_name, acceptor.peer_name, acceptor.peer_port) == ("desktop", "laptop", 4711)
    assert acceptor.peer_cert_pem == I_PEM
    assert book.pending == {}  # used codes are gone


def test_a_wrong_code_fails_burns_the_code_and_backs_off() -> None:
    book = CodeBook()
    for attempt in range(pairing.FREE_FAILURES):
        initiator = _initiator("laptop", I_PEM, I_DER, A_DER)
        acceptor = Acceptor("desktop", A_DER, book)
        with pytest.raises(PairingError, match="wrong code"):
            _run(initiator, acceptor, "000000" if attempt else "999999", now=attempt)
        assert acceptor.phase is Phase.FAILED
        assert book.pending == {}
    me = pairing.fingerprint(I_DER)
    assert book.retry_after(me, pairing.FREE_FAILURES) > 0
    refused = Acceptor("desktop", A_DER, book).receive(
        _initiator("laptop", I_PEM, I_DER, A_DER).start(), pairing.FREE_FAILURES, I_DER
    )
    assert isinstance(refused, pairing.PairResult) and "too many wrong codes" in refused.reason
    first_wait = book.retry_after(me, pairing.FREE_FAILURES)
    book.record_failure(me, pairing.FREE_FAILURES + 1)
    assert book.retry_after(me, pairing.FREE_FAILURES + 1) > first_wait  # it grows
    # Another device is not held back by this one's mistakes.
    other = _request(_initiator("phone", M_PEM, M_DER, A_DER), Acceptor("desktop", A_DER, book), 4.0, M_DER)
    assert isinstance(other, pairing.PairChallenge)


def test_an_expired_code_is_refused() -> None:
    book = CodeBook()
    initiator = _initiator("laptop", I_PEM, I_DER, A_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    initiator.receive(_sent(_request(initiator, acceptor, 0.0, I_DER)))
    late = acceptor.receive(initiator.enter_code(acceptor.code_to_show or ""), pairing.CODE_TTL_S + 1)
    assert isinstance(late, pairing.PairResult) and "expired" in late.reason


def test_a_pending_code_is_reused_by_a_second_request_from_the_same_device() -> None:
    book = CodeBook()
    first = Acceptor("desktop", A_DER, book)
    _request(_initiator("laptop", I_PEM, I_DER, A_DER), first, 0.0, I_DER)
    code = first.code_to_show
    second = Acceptor("desktop", A_DER, book)
    _request(_initiator("laptop", I_PEM, I_DER, A_DER), second, 5.0, I_DER)
    assert second.code_to_show is None  # nothing new to show
    assert book.valid_code(pairing.fingerprint(I_DER), 5.0) == code


def test_a_relay_with_its_own_certificate_cannot_pass_the_proof_on() -> None:
    # The initiator's TLS ended at the relay, so its proof names the relay's certificate, not the
    # acceptor's: refused before any code exists, and nothing counts against the real requester.
    book = CodeBook()
    initiator = _initiator("laptop", I_PEM, I_DER, M_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    refused = _request(initiator, acceptor, 0.0, I_DER)
    assert isinstance(refused, pairing.PairResult) and "could not prove" in refused.reason
    assert acceptor.phase is Phase.FAILED and acceptor.code_to_show is None
    assert book.pending == {} and not book.failures


def test_a_copied_certificate_cannot_claim_or_burn_its_owners_code() -> None:
    book = CodeBook()
    real = Acceptor("desktop", A_DER, book)
    first = _request(_initiator("laptop", I_PEM, I_DER, A_DER), real, 0.0, I_DER)
    assert isinstance(first, pairing.PairChallenge)
    code = real.code_to_show
    for t in range(10):
        forger = _initiator("laptop", I_PEM, I_DER, A_DER, key=M_KEY)  # the victim's certificate, not its key
        refused = _request(forger, Acceptor("desktop", A_DER, book), 1.0 + t, I_DER)
        assert isinstance(refused, pairing.PairResult) and "could not prove" in refused.reason
    assert book.valid_code(pairing.fingerprint(I_DER), 20.0) == code
    assert book.retry_after(pairing.fingerprint(I_DER), 20.0) == 0


def test_one_slow_guesser_does_not_lock_out_everyone() -> None:
    book = CodeBook()
    for i in range(pairing.GLOBAL_FREE_FAILURES - 1):
        book.record_failure(pairing.fingerprint(M_DER), i * 60.0)  # one wrong code a minute
    assert book.retry_after(pairing.fingerprint(I_DER), 1200.0) == 0
    assert book.retry_after(pairing.fingerprint(M_DER), 1200.0) > 0


def test_a_flood_of_fresh_identities_makes_everyone_wait() -> None:
    book = CodeBook()
    for i in range(pairing.GLOBAL_FREE_FAILURES):
        book.record_failure(i.to_bytes(32, "big"), 1.0)
    assert book.retry_after(pairing.fingerprint(I_DER), 1.0) > 0


def test_abandoned_requests_are_forgotten_when_their_codes_expire() -> None:
    book = CodeBook()
    for i in range(pairing.MAX_PENDING):
        assert book.code_for(i.to_bytes(32, "big"), 0.0) is not None
    assert book.code_for(b"late", 1.0) is None  # bounded while they wait
    assert book.code_for(b"late", pairing.CODE_TTL_S + 1) is not None
    assert len(book.pending) == 1


def test_an_active_man_in_the_middle_running_spake2_with_each_side_fails() -> None:
    book = CodeBook()
    real_acceptor = Acceptor("desktop", A_DER, book)
    # Toward the acceptor the attacker is an initiator with its own certificate and a guessed code.
    attacker_out = _initiator("laptop", M_PEM, M_DER, A_DER)
    attacker_out.receive(_sent(_request(attacker_out, real_acceptor, 0.0, M_DER)))
    reply = real_acceptor.receive(
        attacker_out.enter_code("123456" if real_acceptor.code_to_show != "123456" else "654321"), 0.0
    )
    confirm = attacker_out.receive(_sent(reply))
    refused = real_acceptor.receive(_sent(confirm), 0.0)
    assert isinstance(refused, pairing.PairResult) and not refused.ok
    # Toward the real initiator it is an acceptor with a code book of its own; the user types the
    # code the real acceptor showed, which the attacker does not know.
    victim = _initiator("laptop", I_PEM, I_DER, M_DER)
    fake_acceptor = Acceptor("desktop", M_DER, CodeBook())
    victim.receive(_sent(_request(victim, fake_acceptor, 0.0, I_DER)))
    reply = fake_acceptor.receive(victim.enter_code(real_acceptor.code_to_show or "000000"), 0.0)
    refusal = fake_acceptor.receive(_sent(victim.receive(_sent(reply))), 0.0)
    assert isinstance(refusal, pairing.PairResult) and not refusal.ok
    with pytest.raises(PairingError):
        victim.receive(refusal)
    assert victim.phase is Phase.FAILED


def test_an_abandoned_key_exchange_counts_as_a_wrong_code() -> None:
    book = CodeBook()
    initiator = _initiator("laptop", I_PEM, I_DER, A_DER)
    acceptor = Acceptor("desktop", A_DER, book)
    initiator.receive(_sent(_request(initiator, acceptor, 0.0, I_DER)))
    acceptor.receive(initiator.enter_code("111111"), 0.0)
    acceptor.abandon(1.0)
    assert book.pending == {} and book.failures == {pairing.fingerprint(I_DER): [1.0]}


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
    st.builds(pairing.PairProof, st.binary(max_size=80)),
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
            reply,
            pairing.PairProve
            | pairing.PairChallenge
            | pairing.PairSpake
            | pairing.PairResult
            | pairing.PairConfirm,
        )
    assert acceptor.phase is not Phase.PAIRED  # nobody can pair without the code


@given(st.binary(max_size=300))
def test_random_bytes_are_wire_errors(data: bytes) -> None:
    try:
        pairing.decode(data)
    except WireError:
        pass


def test_a_requester_name_with_control_characters_is_kept_escaped() -> None:
    book = CodeBook()
    acceptor = Acceptor("desktop", A_DER, book)
    initiator = _initiator("x\r\x1b[2Kalpha", I_PEM, I_DER, A_DER)
    acceptor.receive(initiator.start(), 0.0, I_DER)
    assert acceptor.peer_name == "x\\r\\x1b[2Kalpha"


def test_the_requester_signs_one_proof_only() -> None:
    initiator = _initiator("laptop", I_PEM, I_DER, A_DER)
    initiator.start()
    assert isinstance(initiator.receive(pairing.PairProve(b"\1" * pairing.NONCE_BYTES)), pairing.PairProof)
    # A device that keeps asking gets no second signature and no endless exchange.
    with pytest.raises(PairingError, match="unexpected PairProve"):
        initiator.receive(pairing.PairProve(b"\2" * pairing.NONCE_BYTES))
    assert initiator.phase is Phase.FAILED


def test_a_malformed_proof_request_is_refused() -> None:
    initiator = _initiator("laptop", I_PEM, I_DER, A_DER)
    initiator.start()
    with pytest.raises(PairingError, match="malformed proof request"):
        initiator.receive(pairing.PairProve(b"short"))
