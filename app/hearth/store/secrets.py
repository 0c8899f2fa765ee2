"""Secrets this device keeps: in the OS keyring, or where none is secure, a 0600 file in the state folder.

Each secret is stored per state folder, so that several Hearth nodes on one machine (tests, a second
user profile) keep secrets of their own.
"""

from __future__ import annotations

import logging
import os
import tempfile

import keyring
import keyring.backends.fail
import keyring.errors

from hearth.store import paths

log = logging.getLogger(__name__)
KEYRING_SERVICE = "Hearth"


def secure_keyring() -> bool:
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        return False
    try:
        return (
            float(getattr(backend, "priority", 0)) > 0 and "plaintext" not in type(backend).__name__.lower()
        )
    except Exception:  # a broken backend reports nothing useful; treat it as absent
        return False


def _user(kind: str) -> str:
    return f"{kind}:{paths.state_dir().resolve()}"


def load(kind: str, file_name: str) -> tuple[str | None, str]:
    """The secret and where it was found ("keyring" or "file"); None when there is none yet."""
    if secure_keyring():
        try:
            stored = keyring.get_password(KEYRING_SERVICE, _user(kind))
            if stored:
                return stored, "keyring"
        except keyring.errors.KeyringError as exc:
            log.warning("keyring unavailable (%s); using the file %s", exc, file_name)
    path = paths.config_dir() / file_name
    if path.exists():
        return path.read_text(encoding="utf-8"), "file"
    return None, "file"


def why_unreadable(kind: str) -> str:
    """Why ``load`` found no secret of ``kind``, for a message: the keyring's own answer where it gave
    one. Asks the keyring again, so only for a secret that should have been there."""
    if not secure_keyring():
        return f"no secure keyring is available now (the backend is {type(keyring.get_keyring()).__name__})"
    try:
        stored = keyring.get_password(KEYRING_SERVICE, _user(kind))
    except keyring.errors.KeyringError as exc:
        return f"the keyring did not answer ({exc or type(exc).__name__})"
    return "the keyring answered but holds nothing for it" if not stored else "it could not be read"


def save(kind: str, file_name: str, value: str) -> str:
    """Store the secret; returns where it went ("keyring" or "file")."""
    if secure_keyring():
        try:
            keyring.set_password(KEYRING_SERVICE, _user(kind), value)
            return "keyring"
        except keyring.errors.KeyringError as exc:
            log.warning("keyring unavailable (%s); using the file %s", exc, file_name)
    path = paths.config_dir() / file_name
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value)
    os.replace(tmp, path)
    return "file"
