"""The key other apps present to Hearth's HTTP API when it is open to the network."""

from __future__ import annotations

import secrets

from hearth.store import secrets as secret_store

_KIND = "api-key"
_FILE = "api-key.txt"
PREFIX = "hearth-"


def load_or_create() -> str:
    key, _ = secret_store.load(_KIND, _FILE)
    key = (key or "").strip()
    # A file emptied or left blank by hand must not become the empty key, which a request without
    # one would match: a new key instead.
    return key or regenerate()


def regenerate() -> str:
    """A new key; the old one stops working at once."""
    key = PREFIX + secrets.token_urlsafe(32)
    secret_store.save(_KIND, _FILE, key)
    return key
