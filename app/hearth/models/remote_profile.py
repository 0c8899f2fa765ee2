"""The profile of a model on the hub, from its header alone: a few Range requests, never the weights.

The header (metadata, vocabulary, tensor table) is usually a few megabytes at the start of the file;
each part of a split model has its own. Profiles are remembered by the file's hash, so a catalog shows
what fits without asking the hub again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec

from hearth.core.gguf_header import GGUFError, GGUFHeader, NeedMoreBytes, parse
from hearth.core.profile import ModelProfile, profile_from_header
from hearth.models.hub import Hub, HubError, RemoteFile, RemoteModel
from hearth.models.mlx_model import header_length, mlx_profile, parse_header
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


async def _remote_json(hub: Hub, model: RemoteModel, name: str) -> dict[str, Any]:
    data, size = await fetch_prefix(
        hub, RemoteFile(model.repo, name, 0, None, model.parts[0].revision), 8 << 20
    )
    if len(data) < size:
        raise GGUFError(f"{model.repo}/{name} is too large to be a configuration file")
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise GGUFError(f"{model.repo}/{name} is not JSON ({exc})") from None
    return value if isinstance(value, dict) else {}


async def _remote_safetensors(hub: Hub, file: RemoteFile) -> dict[str, dict[str, Any]]:
    """A safetensors file's tensor table: its 8-byte length, then the table, and never the weights."""
    head, _ = await fetch_prefix(hub, file, 8)
    data, _ = await fetch_prefix(hub, file, 8 + header_length(head, file.name))
    return parse_header(data[8:], file.name)


async def _remote_mlx_profile(hub: Hub, model: RemoteModel) -> ModelProfile:
    config = await _remote_json(hub, model, "config.json")
    try:
        chat = bool((await _remote_json(hub, model, "tokenizer_config.json")).get("chat_template"))
    except HubError:
        chat = False
    weights = [f for f in model.parts if f.name.endswith(".safetensors")]
    headers = [await _remote_safetensors(hub, f) for f in weights]
    name = model.repo.rsplit("/", 1)[-1]
    return mlx_profile(model.repo, name, config, headers, chat, model.size)


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
    if model.format == "mlx":
        profile = await _remote_mlx_profile(hub, model)
    else:
        headers = [await _remote_header(hub, f) for f in model.parts]
        profile = profile_from_header(headers[0], headers[1:])
        profile = dataclasses.replace(profile, path=f"{model.repo}/{model.name}")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(profile))
        tmp.replace(cached)
    return profile
