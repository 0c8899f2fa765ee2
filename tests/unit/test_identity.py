"""A device key or certificate that cannot be read is one that does not belong, with the reason; the
start stops and keeps the certificate."""

from __future__ import annotations

import base64
from pathlib import Path

import keyring
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hearth.mesh import identity
from hearth.mesh.identity import make_certificate

CERT, KEY = make_certificate()
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # the OID 1.2.840.10045.2.1 as DER
UNKNOWN_KEY_TYPE = bytes.fromhex("06072a8648ce3d0209")  # 1.2.840.10045.2.9, no key type cryptography has


def _pem(kind: str, der: bytes) -> bytes:
    return f"-----BEGIN {kind}-----\n".encode() + base64.encodebytes(der) + f"-----END {kind}-----\n".encode()


def _cert_der() -> bytes:
    return x509.load_pem_x509_certificate(CERT).public_bytes(serialization.Encoding.DER)


def _key_der() -> bytes:
    key = serialization.load_pem_private_key(KEY, None)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _encrypted_key() -> bytes:
    key = serialization.load_pem_private_key(KEY, None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"a password"),
    )


def test_the_key_of_the_certificate_belongs() -> None:
    assert identity._mismatch(KEY, CERT) is None
    assert (
        identity._mismatch(make_certificate()[1], CERT) == "the key found does not belong to the certificate"
    )


@pytest.mark.parametrize(
    ("key", "cert", "reason"),
    [
        # cryptography's ValueError: not PEM, a PEM of nothing, a truncated DER
        (b"", CERT, "the key found is damaged"),
        (b"not a key at all", CERT, "the key found is damaged"),
        (_pem("PRIVATE KEY", b"\x30\x03\x02\x01"), CERT, "the key found is damaged"),
        (_pem("PRIVATE KEY", _key_der()[:-5]), CERT, "the key found is damaged"),
        (CERT, CERT, "the key found is damaged"),  # a certificate where the key should be
        # TypeError: encrypted, and no password to give
        (_encrypted_key(), CERT, "the key found is encrypted"),
        # UnsupportedAlgorithm: a key of a type cryptography does not know
        (_pem("PRIVATE KEY", _key_der().replace(EC_PUBLIC_KEY, UNKNOWN_KEY_TYPE)), CERT, "not a kind of key"),
        (KEY, b"", "the certificate is damaged"),
        (KEY, b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n", "the certificate is damaged"),
        (KEY, _pem("CERTIFICATE", _cert_der()[:100]), "the certificate is damaged"),
        (KEY, KEY, "the certificate is damaged"),
        # A certificate that parses, holding a key type cryptography does not know (UnsupportedAlgorithm
        # only once its key is asked for).
        (
            KEY,
            _pem("CERTIFICATE", _cert_der().replace(EC_PUBLIC_KEY, UNKNOWN_KEY_TYPE)),
            "holds a kind of key",
        ),
    ],
)
def test_what_cannot_be_read_does_not_belong(key: bytes, cert: bytes, reason: str) -> None:
    why = identity._mismatch(key, cert)
    assert why is not None and reason in why, why


def test_a_damaged_certificate_stops_the_start_and_is_kept(hearth_home: Path, monkeypatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    identity.load_or_create("box")
    cert_path = hearth_home / "config" / identity.CERT_FILE
    damaged = _pem("CERTIFICATE", _cert_der().replace(EC_PUBLIC_KEY, UNKNOWN_KEY_TYPE))
    cert_path.write_bytes(damaged)
    with pytest.raises(identity.IdentityError) as stopped:
        identity.load_or_create()
    message = str(stopped.value)
    assert "the certificate is damaged" in message and str(cert_path) in message
    assert cert_path.read_bytes() == damaged  # never replaced by a new identity behind the user's back


def test_an_unreadable_key_stops_the_start(hearth_home: Path, monkeypatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    first = identity.load_or_create("box")
    key_file = hearth_home / "config" / identity.KEY_FILE
    key_file.write_bytes(_encrypted_key())
    with pytest.raises(identity.IdentityError, match="encrypted with a password Hearth does not have"):
        identity.load_or_create()
    key_file.write_bytes(first.key_pem)  # the right key again: the same device
    assert identity.load_or_create().device_id == first.device_id
