"""Device IDs: the SHA-256 of a device's certificate, written in groups people can compare."""

from __future__ import annotations

import base64
import hashlib
from typing import NewType

# A device's full ID as ``device_id`` writes it. Names, short IDs and typed prefixes are plain strings:
# only an ID read from a certificate (or a paired record of one) names a device for certain.
DeviceId = NewType("DeviceId", str)

GROUP = 4
SHORT_GROUPS = 2


def device_id(cert_der: bytes) -> DeviceId:
    """Full ID: base32 of SHA-256(certificate DER), 52 characters in groups of four."""
    raw = base64.b32encode(hashlib.sha256(cert_der).digest()).decode().rstrip("=")
    return DeviceId("-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP)))


def short_id(full: str) -> str:
    """What the UI shows next to a name: the first two groups."""
    return "-".join(full.split("-")[:SHORT_GROUPS])


def normalize(text: str) -> str:
    """An ID or ID prefix as typed: case and separators do not matter."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def matches(full: str, typed: str) -> bool:
    """Whether ``typed`` (an ID or a prefix of at least four characters) names ``full``."""
    t = normalize(typed)
    return len(t) >= GROUP and normalize(full).startswith(t)
