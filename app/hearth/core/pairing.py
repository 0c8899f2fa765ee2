"""Pairing with a six-digit code: SPAKE2 bound to the certificates each side saw (sans-I/O).

The initiator (the device where the user types the code) opens TLS to the acceptor's endpoint and
sends its certificate, then proves it holds that certificate's key by signing a fresh nonce together
with the acceptor's fingerprint as it saw it. Only then does the acceptor show a one-time code, kept
for that certificate: someone who copied a certificate off the network cannot claim its pending code
(or burn it), and a relay cannot pass the proof on. Both run SPAKE2 with the code as password and
with identities made of the two certificate fingerprints *as each side saw them*; then both prove they
hold the same key, initiator first. A relay that terminates TLS with its own certificate makes the
fingerprints differ, so the keys differ and the proofs fail; a guesser gets one try per code.

Nothing here does I/O or reads the clock: callers pass ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from spake2 import SPAKE2_A, SPAKE2_B
from spake2.spake2 import SPAKEError

from hearth.core import wire
from hearth.core.errors import HearthError
from hearth.core.names import clean_name

PAIRING_VERSION = 2
CODE_DIGITS = 6
CODE_TTL_S = 120.0
# Wrong codes one requester may make before it waits; beyond that the wait doubles.
FREE_FAILURES = 3
# Wrong codes from everyone together before every requester waits: only a flood of fresh identities
# gets there, so one slow attacker cannot lock the real user out.
GLOBAL_FREE_FAILURES = 20
BACKOFF_BASE_S = 10.0
BACKOFF_MAX_S = 600.0
FAILURE_MEMORY_S = 900.0
MAX_PENDING = 64
NONCE_BYTES = 32
_LABEL = b"hearth-pair-v2"


class PairRequest(msgspec.Struct, tag="pair_request", frozen=True):
    version: int
    name: str
    cert_pem: str
    port: int = 0  # where the requester listens, so the acceptor can reach it later


class PairProve(msgspec.Struct, tag="prove", frozen=True):
    """The acceptor asks the requester to sign ``nonce`` with its certificate's key."""

    nonce: bytes


class PairProof(msgspec.Struct, tag="proof", frozen=True):
    signature: bytes


class PairChallenge(msgspec.Struct, tag="pair_challenge", frozen=True):
    name: str
    expires_in: float


class PairSpake(msgspec.Struct, tag="spake", frozen=True):
    message: bytes


class PairConfirm(msgspec.Struct, tag="confirm", frozen=True):
    mac: bytes


class PairResult(msgspec.Struct, tag="result", frozen=True):
    ok: bool
    reason: str = ""


class InfoRequest(msgspec.Struct, tag="info_request", frozen=True):
    """What a device is, for adding it by address where mDNS does not reach: the same as its TXT record."""


class DeviceInfo(msgspec.Struct, tag="info", frozen=True):
    device_id: str
    name: str
    os: str
    memory_total: int
    accelerator: str
    protocol: int


PairMessage = (
    PairRequest
    | PairProve
    | PairProof
    | PairChallenge
    | PairSpake
    | PairConfirm
    | PairResult
    | InfoRequest
    | DeviceInfo
)
_decoder: msgspec.json.Decoder[PairMessage] = wire.decoder(PairMessage)


def decode(data: str | bytes) -> PairMessage:
    return wire.decode(_decoder, data)


class PairingError(HearthError):
    """Pairing failed; the message is fit to show the user."""


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalize_code(text: str) -> str:
    """What the user typed, without spaces or dashes; raises PairingError if it cannot be a code."""
    digits = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    if len(digits) != CODE_DIGITS or not digits.isdigit():
        raise PairingError(f"a pairing code is {CODE_DIGITS} digits")
    return digits


def fingerprint(cert_der: bytes) -> bytes:
    return hashlib.sha256(cert_der).digest()


def proof_data(nonce: bytes, acceptor_fingerprint: bytes) -> bytes:
    """What a requester signs: the acceptor's nonce and the acceptor as the requester saw it."""
    return _transcript(_LABEL + b"-proof", acceptor_fingerprint, nonce, b"")


def sign_proof(key_pem: bytes, data: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_pem, None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PairingError("this device's key is not an elliptic-curve key")
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def proof_holds(cert_der: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` was made with the key of the certificate ``cert_der``."""
    try:
        public = x509.load_der_x509_certificate(cert_der).public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            return False
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _transcript(id_a: bytes, id_b: bytes, msg_a: bytes, msg_b: bytes) -> bytes:
    return b"".join(len(x).to_bytes(4, "big") + x for x in (_LABEL, id_a, id_b, msg_a, msg_b))


def _mac(key: bytes, role: bytes, transcript: bytes) -> bytes:
    return hmac.new(key, role + transcript, hashlib.sha256).digest()


class Phase(Enum):
    START = "start"
    AWAIT_CHALLENGE = "await_challenge"
    AWAIT_PROOF = "await_proof"
    AWAIT_CODE = "await_code"
    AWAIT_SPAKE = "await_spake"
    AWAIT_CONFIRM = "await_confirm"
    AWAIT_RESULT = "await_result"
    PAIRED = "paired"
    FAILED = "failed"


class Initiator:
    """The side where the user types the code."""

    def __init__(
        self,
        my_name: str,
        my_cert_pem: str,
        my_cert_der: bytes,
        peer_cert_der: bytes,
        sign: Callable[[bytes], bytes],
        my_port: int = 0,
    ) -> None:
        self.phase = Phase.START
        self._sign = sign
        self._proved = False
        self._port = my_port
        self._name = my_name
        self._cert_pem = my_cert_pem
        self._id_a = fingerprint(my_cert_der)
        self._id_b = fingerprint(peer_cert_der)
        self.peer_name = ""
        self._spake: SPAKE2_A | None = None
        self._msg_a = b""
        self._key = b""
        self._transcript = b""

    def start(self) -> PairRequest:
        self._expect(Phase.START)
        self.phase = Phase.AWAIT_CHALLENGE
        return PairRequest(PAIRING_VERSION, self._name, self._cert_pem, self._port)

    def receive(self, message: PairMessage) -> PairMessage | None:
        """Handle one message from the acceptor; returns the reply to send, if any."""
        if isinstance(message, PairResult) and not message.ok:
            self.phase = Phase.FAILED
            raise PairingError(message.reason or "the other device refused to pair")
        if self.phase is Phase.AWAIT_CHALLENGE and isinstance(message, PairProve) and not self._proved:
            if len(message.nonce) != NONCE_BYTES:
                self.phase = Phase.FAILED
                raise PairingError("the other device sent a malformed proof request")
            self._proved = True
            return PairProof(self._sign(proof_data(message.nonce, self._id_b)))
        if self.phase is Phase.AWAIT_CHALLENGE and isinstance(message, PairChallenge):
            self.peer_name = clean_name(message.name)
            self.phase = Phase.AWAIT_CODE
            return None
        if self.phase is Phase.AWAIT_SPAKE and isinstance(message, PairSpake):
            assert self._spake is not None
            try:
                self._key = self._spake.finish(message.message)
            except (SPAKEError, ValueError) as exc:
                self.phase = Phase.FAILED
                raise PairingError(f"the other device sent a bad key exchange ({exc})") from None
            self._transcript = _transcript(self._id_a, self._id_b, self._msg_a, message.message)
            self.phase = Phase.AWAIT_CONFIRM
            return PairConfirm(_mac(self._key, b"initiator", self._transcript))
        if self.phase is Phase.AWAIT_CONFIRM and isinstance(message, PairConfirm):
            if not hmac.compare_digest(message.mac, _mac(self._key, b"acceptor", self._transcript)):
                self.phase = Phase.FAILED
                raise PairingError("the other device could not prove it knows the code: not paired")
            self.phase = Phase.PAIRED
            return None
        self.phase = Phase.FAILED
        raise PairingError(f"unexpected {type(message).__name__} while {self.phase.value}")

    def enter_code(self, code: str) -> PairSpake:
        self._expect(Phase.AWAIT_CODE)
        self._spake = SPAKE2_A(normalize_code(code).encode(), idA=self._id_a, idB=self._id_b)
        self._msg_a = self._spake.start()
        self.phase = Phase.AWAIT_SPAKE
        return PairSpake(self._msg_a)

    def _expect(self, phase: Phase) -> None:
        if self.phase is not phase:
            raise PairingError(f"pairing is {self.phase.value}, not {phase.value}")


@dataclass
class _Pending:
    code: str
    expires: float


def _backoff(extra: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**extra))


@dataclass
class CodeBook:
    """The acceptor's codes: one pending code per proven requester, burned on failure.

    Wrong codes make that requester wait (after ``FREE_FAILURES``, doubling); everyone waits only when
    wrong codes from all requesters together pass ``GLOBAL_FREE_FAILURES``. Everything kept here expires,
    so abandoned requests cost nothing after a while.
    """

    pending: dict[bytes, _Pending] = field(default_factory=dict)
    failures: dict[bytes, list[float]] = field(default_factory=dict)
    blocked: dict[bytes, float] = field(default_factory=dict)
    all_failures: list[float] = field(default_factory=list)
    blocked_until: float = 0.0

    def retry_after(self, requester: bytes, now: float) -> float:
        """Seconds until a request from ``requester`` is accepted (0: now)."""
        return max(0.0, self.blocked_until - now, self.blocked.get(requester, 0.0) - now)

    def prune(self, now: float) -> None:
        self.pending = {k: v for k, v in self.pending.items() if v.expires > now}
        recent = {k: [t for t in v if now - t < FAILURE_MEMORY_S] for k, v in self.failures.items()}
        self.failures = {k: v for k, v in recent.items() if v}
        self.blocked = {k: v for k, v in self.blocked.items() if v > now}
        self.all_failures = [t for t in self.all_failures if now - t < FAILURE_MEMORY_S]

    def code_for(self, requester: bytes, now: float) -> tuple[str, float, bool] | None:
        """The code for ``requester``: (code, seconds left, whether it is new and must be shown); None
        when too many requests are waiting for their codes already."""
        self.prune(now)
        current = self.pending.get(requester)
        if current:
            return current.code, current.expires - now, False
        if len(self.pending) >= MAX_PENDING:
            return None
        entry = _Pending(new_code(), now + CODE_TTL_S)
        self.pending[requester] = entry
        return entry.code, CODE_TTL_S, True

    def valid_code(self, requester: bytes, now: float) -> str | None:
        entry = self.pending.get(requester)
        return entry.code if entry and entry.expires > now else None

    def burn(self, requester: bytes) -> None:
        self.pending.pop(requester, None)

    def record_failure(self, requester: bytes, now: float) -> None:
        self.prune(now)
        mine = self.failures.setdefault(requester, [])
        mine.append(now)
        if len(mine) >= FREE_FAILURES:
            self.blocked[requester] = now + _backoff(len(mine) - FREE_FAILURES)
        self.all_failures.append(now)
        if len(self.all_failures) >= GLOBAL_FREE_FAILURES:
            self.blocked_until = now + _backoff(len(self.all_failures) - GLOBAL_FREE_FAILURES)

    def record_success(self, requester: bytes) -> None:
        self.failures.pop(requester, None)
        self.blocked.pop(requester, None)


class Acceptor:
    """The side that shows the code. ``code_to_show`` is set when the user must be shown a new code."""

    def __init__(self, my_name: str, my_cert_der: bytes, book: CodeBook) -> None:
        self.phase = Phase.START
        self._name = my_name
        self._id_b = fingerprint(my_cert_der)
        self._book = book
        self.peer_name = ""
        self.peer_cert_pem = ""
        self.peer_port = 0
        self._id_a = b""
        self.code_to_show: str | None = None
        self._key = b""
        self._transcript = b""
        self._peer_der = b""
        self._nonce = b""

    def receive(
        self, message: PairMessage, now: float, peer_cert_der: bytes | None = None
    ) -> PairMessage | None:
        """Handle one message; ``peer_cert_der`` is the DER of the certificate in a PairRequest."""
        if self.phase is Phase.START and isinstance(message, PairRequest):
            if message.version != PAIRING_VERSION:
                return self._fail(
                    f"pairing version {message.version} is not supported (this device: {PAIRING_VERSION})"
                )
            if peer_cert_der is None:
                return self._fail("the request carries no certificate")
            self._id_a = fingerprint(peer_cert_der)
            wait = self._book.retry_after(self._id_a, now)
            if wait > 0:
                return self._fail(f"too many wrong codes; try again in {wait:.0f} s")
            self.peer_name = clean_name(message.name)
            self.peer_cert_pem = message.cert_pem
            self.peer_port = message.port
            self._peer_der = peer_cert_der
            self._nonce = secrets.token_bytes(NONCE_BYTES)
            self.phase = Phase.AWAIT_PROOF
            return PairProve(self._nonce)
        if self.phase is Phase.AWAIT_PROOF and isinstance(message, PairProof):
            if not proof_holds(self._peer_der, proof_data(self._nonce, self._id_b), message.signature):
                # Nothing of the code book is touched: a copied certificate cannot burn its owner's code.
                return self._fail("the request could not prove it holds its certificate's key")
            found = self._book.code_for(self._id_a, now)
            if found is None:
                return self._fail("too many pairing requests are waiting; try again in a minute")
            code, left, is_new = found
            self.code_to_show = code if is_new else None
            self.phase = Phase.AWAIT_SPAKE
            return PairChallenge(self._name, left)
        if self.phase is Phase.AWAIT_SPAKE and isinstance(message, PairSpake):
            valid = self._book.valid_code(self._id_a, now)
            if valid is None:
                return self._fail("the code has expired; ask for a new one")
            spake = SPAKE2_B(valid.encode(), idA=self._id_a, idB=self._id_b)
            msg_b = spake.start()
            try:
                self._key = spake.finish(message.message)
            except (SPAKEError, ValueError):
                return self._wrong_code(now)
            self._transcript = _transcript(self._id_a, self._id_b, message.message, msg_b)
            self.phase = Phase.AWAIT_CONFIRM
            return PairSpake(msg_b)
        if self.phase is Phase.AWAIT_CONFIRM and isinstance(message, PairConfirm):
            if not hmac.compare_digest(message.mac, _mac(self._key, b"initiator", self._transcript)):
                return self._wrong_code(now)
            self._book.burn(self._id_a)
            self._book.record_success(self._id_a)
            self.phase = Phase.PAIRED
            return PairConfirm(_mac(self._key, b"acceptor", self._transcript))
        return self._fail(f"unexpected {type(message).__name__} while {self.phase.value}")

    @property
    def peer_cert_der(self) -> bytes:
        return self._peer_der

    def abandon(self, now: float) -> None:
        """The connection ended. A key exchange that was started and not finished counts as a wrong code."""
        if self.phase is Phase.AWAIT_CONFIRM:
            self._wrong_code(now)

    def _wrong_code(self, now: float) -> PairResult:
        self._book.burn(self._id_a)
        self._book.record_failure(self._id_a, now)
        return self._fail("wrong code; the code is no longer valid")

    def _fail(self, reason: str) -> PairResult:
        self.phase = Phase.FAILED
        return PairResult(False, reason)
