"""JSON encoding shared by the control and pairing protocols: strict decoding into tagged structs."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from hearth.core.errors import HearthError

MAX_MESSAGE = 256 * 1024
T = TypeVar("T")


class WireError(HearthError, ValueError):
    """A message that is not valid JSON, too large, or not of a known shape."""


def encode(message: msgspec.Struct) -> str:
    return msgspec.json.encode(message).decode()


def decoder(union: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(union)


def decode(dec: msgspec.json.Decoder[T], data: str | bytes) -> T:
    if len(data) > MAX_MESSAGE:
        raise WireError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    try:
        return dec.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise WireError(str(exc)) from None
