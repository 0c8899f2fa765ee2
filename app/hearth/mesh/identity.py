"""This device's long-term key and self-signed certificate.

The private key lives in the OS keyring. Where no secure keyring backend exists (headless Linux,
containers) it falls back to a 0600 file in the state directory, and ``Identity.key_warning`` says so.
A certificate whose key cannot be read (the keyring is locked, or did not start) stops the start
with ``IdentityError``: making a new identity would silently end every pairing of this device.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hearth.core.device_id import DeviceId, device_id, short_id
from hearth.core.errors import HearthError
from hearth.store import json_state, paths
from hearth.store import secrets as secret_store

log = logging.getLogger(__name__)
CERT_FILE = "device-cert.pem"
KEY_FILE = "device-key.pem"
NAME_FILE = "device-name"


class IdentityError(HearthError):
    """This device's identity exists but cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Identity:
    name: str
    cert_pem: bytes
    key_pem: bytes
    key_storage: str  # "keyring" or "file"

    @property
    def cert_der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)

    @property
    def device_id(self) -> DeviceId:
        return device_id(self.cert_der)

    @property
    def short_id(self) -> str:
        return short_id(self.device_id)

    @property
    def key_warning(self) -> str | None:
        if self.key_storage == "file":
            return (
                "no secure keyring is available: the device key is kept in a file readable only by this user"
            )
        return None

    def write_chain(self, directory: Path) -> tuple[Path, Path, str]:
        """Certificate and a password-protected copy of the key in ``directory``, for ``load_cert_chain``."""
        password = secrets.token_urlsafe(24)
        key = serialization.load_pem_private_key(self.key_pem, None)
        encrypted = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
        cert_path = directory / "cert.pem"
        key_path = directory / "key.pem"
        cert_path.write_bytes(self.cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(encrypted)
        return cert_path, key_path, password


def make_certificate() -> tuple[bytes, bytes]:
    """A new P-256 key and a well-formed self-signed leaf certificate for it (PEM, PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "hearth"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hearth"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hearth")]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


# One key per state directory, so that several nodes on one machine have several identities.
_KEY_KIND = "device-key"


def default_name() -> str:
    return socket.gethostname().split(".")[0] or "hearth"


def load_or_create(name: str | None = None) -> Identity:
    """This device's identity, created on first use; ``name`` renames the device when given."""
    config = paths.config_dir()
    cert_path = config / CERT_FILE
    name_path = config / NAME_FILE
    stored, storage = secret_store.load(_KEY_KIND, KEY_FILE)
    key_pem = stored.encode() if stored else None
    if not cert_path.exists():
        cert_pem, key_pem = make_certificate()
        storage = secret_store.save(_KEY_KIND, KEY_FILE, key_pem.decode())
        # Whole or not at all: a certificate cut short would stop every later start (IdentityError).
        json_state.write_bytes(cert_path, cert_pem)
    else:
        cert_pem = cert_path.read_bytes()
        if key_pem is None:
            raise IdentityError(_unusable(cert_path, secret_store.why_unreadable(_KEY_KIND)))
        mismatch = _mismatch(key_pem, cert_pem)
        if mismatch:
            raise IdentityError(_unusable(cert_path, mismatch))
    if name:
        json_state.write_bytes(name_path, name.encode("utf-8"))
    stored_name = name_path.read_text(encoding="utf-8").strip() if name_path.exists() else ""
    return Identity(
        name=stored_name or default_name(), cert_pem=cert_pem, key_pem=key_pem, key_storage=storage
    )


def _mismatch(key_pem: bytes, cert_pem: bytes) -> str | None:
    """Why ``key_pem`` is not the private key of ``cert_pem``, or None when it is. A key or
    certificate that cannot be read is one that does not belong: cryptography says so with
    ValueError (malformed or undecodable data), UnsupportedAlgorithm (a key type or curve it does not
    handle) and, for a key, TypeError (encrypted, and no password was given). Its own words, which
    mean little to a user, go to the log."""
    try:
        key = serialization.load_pem_private_key(key_pem, None)
    except TypeError as exc:
        log.warning("the device key cannot be read: %s", exc)
        return "the key found is encrypted with a password Hearth does not have"
    except (ValueError, UnsupportedAlgorithm) as exc:
        log.warning("the device key cannot be read: %s", exc)
        return "the key found is damaged, or not a kind of key Hearth can read"
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        cert_key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        log.warning("the device certificate cannot be read: %s", exc)
        return "the certificate is damaged, or holds a kind of key Hearth cannot read"
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        ours = key.public_key().public_bytes(serialization.Encoding.DER, raw)
        theirs = cert_key.public_bytes(serialization.Encoding.DER, raw)
    except (ValueError, UnsupportedAlgorithm) as exc:
        log.warning("the device key and certificate cannot be compared: %s", exc)
        return "the key or the certificate is of a kind Hearth cannot compare"
    return None if ours == theirs else "the key found does not belong to the certificate"


def _unusable(cert_path: Path, why: str) -> str:
    return (
        f"Hearth cannot use this device's private key ({why}), so it stops rather than become a new "
        "device that no paired device knows. Unlock the system keyring (or log in to the desktop "
        "session that runs it) and start Hearth again. To start over as a new device instead, which "
        f"ends every pairing, delete {cert_path}."
    )
