"""The profile of a model on the hub, from its header alone: a few Range requests, never the weights.

The header (metadata, vocabulary, tensor table) is usually a few megabytes at the start of the file;
each part of a split model has its own. Profiles are remembered by the file's hash, so a catalog shows
what fits without asking the hub again.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import msgspec

from hearth.core.gguf_header import GGUFError, GGUFHeader, NeedMoreBytes, parse
from hearth.core.profile import ModelProfile, profile_from_header
from hearth.models.hub import Hub, RemoteFile, RemoteModel
from hearth.models.transfer import fetch_prefix

FIRST_READ = 4 << 20
MAX_HEADER = 256 << 20


async def _remote_header(hub: Hub, file: RemoteFile) -> GGUFHeader:
    n = FIRST_READ
    while True:
        # The hub states the file's size with every answer: a catalog's rounded figure never counts.
        data, size = await fetch_prefix(hub, file, n)
        try:
            return parse(data, size, file.name, available=len(data))
        except NeedMoreBytes as more:
            if len(data) < n or n >= min(MAX_HEADER, size):
                raise GGUFError(
                    f"{file.name}: the header does not end in its first {len(data)} bytes"
                ) from None
            n = min(max(more.needed + (1 << 20), 2 * n), MAX_HEADER, size)


def _cache_key(model: RemoteModel) -> str:
    first = model.parts[0]
    ident = first.sha256 or f"{model.repo}/{first.name}/{model.size}"
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


async def remote_profile(hub: Hub, model: RemoteModel, cache: Path | None = None) -> ModelProfile:
    """The model's profile (its ``path`` is ``repo/file``); GGUFError when its header is unusable."""
    cached = cache / f"{_cache_key(model)}.json" if cache else None
    if cached is not None and cached.exists():
        try:
            return msgspec.json.decode(cached.read_bytes(), type=ModelProfile)
        except (msgspec.DecodeError, msgspec.ValidationError):
            cached.unlink(missing_ok=True)
    headers = [await _remote_header(hub, f) for f in model.parts]
    profile = profile_from_header(headers[0], headers[1:])
    profile = dataclasses.replace(profile, path=f"{model.repo}/{model.name}")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(profile))
        tmp.replace(cached)
    return profile
