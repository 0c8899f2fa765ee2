from __future__ import annotations

import json
import stat
from pathlib import Path

import keyring
import pytest
from cryptography import x509
from keyring.backend import KeyringBackend

from hearth.core.device_id import device_id, matches, normalize, short_id
from hearth.mesh import identity
from hearth.mesh.identity import make_certificate
from hearth.mesh.trust import TrustStore, cert_der_from_pem


def test_device_ids_are_grouped_sha256() -> None:
    pem, _ = make_certificate()
    full = device_id(cert_der_from_pem(pem.decode()))
    groups = full.split("-")
    assert len(groups) == 13 and all(len(g) == 4 for g in groups)
    assert short_id(full) == "-".join(groups[:2])
    assert matches(full, groups[0].lower()) and matches(full, full)
    assert not matches(full, groups[0][:3])  # too short to name a device
    assert normalize("ab-cd ef") == "ABCDEF"


def test_certificates_are_well_formed() -> None:
    pem, _ = make_certificate()
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {e.dotted_string for e in eku} == {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}


def test_trust_store_persists_forgets_and_notifies(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "trust.json")
    events = []
    store.on_change(lambda: events.append(1))
    pem, _ = make_certificate()
    dev = store.add("desktop", pem.decode(), "127.0.0.2:1")
    assert events == [1]
    again = TrustStore(tmp_path / "trust.json")
    assert again.get(dev.device_id) == dev
    assert again.find("desktop") == dev and again.find(dev.device_id[:4]) == dev
    assert again.find("nobody") is None
    assert again.forget(dev.device_id) and not again.forget(dev.device_id)
    assert TrustStore(tmp_path / "trust.json").devices() == []


def test_trust_store_ignores_entries_whose_id_does_not_match_the_certificate(tmp_path: Path) -> None:
    pem, _ = make_certificate()
    path = tmp_path / "trust.json"
    TrustStore(path).add("desktop", pem.decode())
    data = json.loads(path.read_text())
    data["devices"][0]["device_id"] = "AAAA-" + data["devices"][0]["device_id"][5:]
    path.write_text(json.dumps(data))
    assert TrustStore(path).devices() == []


class MemoryKeyring(KeyringBackend):
    priority = 10

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_identity_uses_a_secure_keyring_when_there_is_one(
    memory_keyring: MemoryKeyring, hearth_home: Path
) -> None:
    first = identity.load_or_create("laptop")
    assert first.key_storage == "keyring" and first.key_warning is None
    assert not (hearth_home / "config" / identity.KEY_FILE).exists()
    assert len(memory_keyring.data) == 1
    again = identity.load_or_create()
    assert (again.device_id, again.name) == (first.device_id, "laptop")


def test_identity_falls_back_to_a_private_file_with_a_warning(hearth_home: Path, monkeypatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    first = identity.load_or_create("box")
    key_file = hearth_home / "config" / identity.KEY_FILE
    assert first.key_storage == "file" and first.key_warning
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert identity.load_or_create().device_id == first.device_id


class UnreachableKeyring(MemoryKeyring):
    """A secure keyring that stopped answering (locked, its service not running): every call fails."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the keyring is locked")


@pytest.mark.parametrize("later", ["unreachable", "gone"])
def test_a_certificate_whose_key_cannot_be_read_stops_with_what_to_do(
    memory_keyring: MemoryKeyring, hearth_home: Path, later: str
) -> None:
    first = identity.load_or_create("laptop")
    assert first.key_storage == "keyring"
    cert_path = hearth_home / "config" / identity.CERT_FILE
    cert = cert_path.read_bytes()
    # The next start finds the keyring locked, or no secure keyring at all (its service did not start).
    keyring.set_keyring(UnreachableKeyring() if later == "unreachable" else keyring.backends.fail.Keyring())
    with pytest.raises(identity.IdentityError) as stopped:
        identity.load_or_create()
    message = str(stopped.value)
    assert "keyring" in message and str(cert_path) in message and "pairing" in message
    # Nothing was replaced: the same device comes back once the keyring answers again.
    assert cert_path.read_bytes() == cert
    assert not (hearth_home / "config" / identity.KEY_FILE).exists()
    keyring.set_keyring(memory_keyring)
    assert identity.load_or_create().device_id == first.device_id


def test_a_key_that_does_not_belong_to_the_certificate_stops_too(hearth_home: Path, monkeypatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    identity.load_or_create("box")
    key_file = hearth_home / "config" / identity.KEY_FILE
    key_file.write_text(make_certificate()[1].decode())
    with pytest.raises(identity.IdentityError, match="does not belong"):
        identity.load_or_create()
