"""What this device keeps between runs, for the ways in that read or change it before (or beside) a
running service: its private state folder, its identity, and the stored donation and API settings.

``hearth node`` stores its donation before the service starts, ``hearth serve`` takes the stored API
settings as the base of its own, ``hearth id`` reads the identity without a node, and the local API
writes where it listens into the state folder.
"""

from __future__ import annotations

from hearth.mesh.identity import Identity, load_or_create
from hearth.store.paths import state_dir
from hearth.store.settings import (
    DEFAULT_API_PORT,
    DEFAULT_OLLAMA_PORT,
    DRAFT_CHOICES,
    MOST_AT_ONCE,
    ApiSettings,
    Donation,
    SettingsError,
    Speculation,
    load_api,
    parse_size,
    update_donation,
)


def device_identity() -> Identity:
    """This device's identity, made on first use; IdentityError (a HearthError) when its key is there
    but cannot be read, rather than a new identity in its place."""
    return load_or_create()


__all__ = [
    "DEFAULT_API_PORT",
    "DEFAULT_OLLAMA_PORT",
    "DRAFT_CHOICES",
    "MOST_AT_ONCE",
    "ApiSettings",
    "Donation",
    "Identity",
    "SettingsError",
    "Speculation",
    "device_identity",
    "load_api",
    "parse_size",
    "state_dir",
    "update_donation",
]
