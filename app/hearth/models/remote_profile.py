"""The profile of a model on the hub, from its header alone: a few Range requests, never the weights.

The header (metadata, vocabulary, tensor table) is usually a few megabytes at the start of the file;
each part of a split model has its own, and all of them together read against one budget. Headers are
parsed on a worker thread: this runs on the window's event loop, and a header can be a few hundred
megabytes of someone else's making. Profiles are remembered by the file's hash, so a catalog shows what
fits without asking the hub again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec

from hearth.core.formats import ModelFormat
from hearth.core.gguf_header import GGUFError, GGUFHeader, HeaderBudget, NeedMoreBytes, parse
from hearth.core.profile import ModelProfile, profile_from_header
from hearth.models.hub import Hub, HubError, RemoteFile, RemoteModel
from hearth.models.mlx_model import header_length, mlx_profile, parse_header
from hearth.models.transfer import fetch_prefix
from hearth.store import json_state

FIRST_READ = 4 << 20
# Each read at least doubles, so a header is fetched in a few Range requests; the budget (shared by the
# model's parts) bounds the last, since the parser refuses a header past it before asking for more.
MAX_READS = 16


async def _remote_header(hub: Hub, file: RemoteFile, budget: HeaderBudget) -> GGUFHeader:
    n = min(FIRST_READ, max(budget.bytes, 1))
    for _ in range(MAX_READS):
        # The hub states the file's size with every answer: a catalog's rounded figure never counts.
        data, size = await fetch_prefix(hub, file, n)
        try:
            return await asyncio.to_thread(parse, data, size, file.name, len(data), budget)
        except NeedMoreBytes as more:
            if len(data) < n or n >= min(budget.bytes, size):
                raise GGUFError(
                    f"{file.name}: the header does not end in its first {len(data)} bytes"
                ) from None
            n = min(max(more.needed + (1 << 20), 2 * n), budget.bytes, size)
    raise GGUFError(f"{file.name}: the header did not end after {MAX_READS} reads")


async def _remote_json(hub: Hub, model: RemoteModel, name: str) -> dict[str, Any]:
    data, size = await fetch_prefix(
        hub, RemoteFile(model.repo, name, 0, None, model.parts[0].revision), 8 << 20
    )
    if len(data) < size:
        raise GGUFError(f"{model.repo}/{name} is too large to be a configuration file")
    try:
        value = await asyncio.to_thread(json.loads, data)
    except ValueError as exc:
        raise GGUFError(f"{model.repo}/{name} is not JSON ({exc})") from None
    return value if isinstance(value, dict) else {}


async def _remote_safetensors(hub: Hub, file: RemoteFile) -> dict[str, dict[str, Any]]:
    """A safetensors file's tensor table: its 8-byte length, then the table, and never the weights."""
    head, _ = await fetch_prefix(hub, file, 8)
    data, _ = await fetch_prefix(hub, file, 8 + header_length(head, file.name))
    return await asyncio.to_thread(parse_header, data[8:], file.name)


async def _remote_mlx_profile(hub: Hub, model: RemoteModel) -> ModelProfile:
    config = await _remote_json(hub, model, "config.json")
    try:
        chat = bool((await _remote_json(hub, model, "tokenizer_config.json")).get("chat_template"))
    except HubError:
        chat = False
    weights = [f for f in model.parts if f.name.endswith(".safetensors")]
    headers = [await _remote_safetensors(hub, f) for f in weights]
    name = model.repo.rsplit("/", 1)[-1]
    return await asyncio.to_thread(mlx_profile, model.repo, name, config, headers, chat, model.size)


# Bumped whenever ModelProfile gains what older cached profiles lack (2: each layer's matrices, for
# repacking), so that a profile is read again rather than taken with the new fields empty.
PROFILE_VERSION = 2


def _cache_key(model: RemoteModel) -> str:
    first = model.parts[0]
    ident = first.sha256 or f"{model.repo}/{first.name}/{model.size}"
    return hashlib.sha256(f"{PROFILE_VERSION}:{ident}".encode()).hexdigest()[:32]


async def remote_profile(hub: Hub, model: RemoteModel, cache: Path | None = None) -> ModelProfile:
    """The model's profile (its ``path`` is ``repo/file``); GGUFError when its header is unusable."""
    cached = cache / f"{_cache_key(model)}.json" if cache else None
    if cached is not None and cached.exists():
        try:
            return msgspec.json.decode(cached.read_bytes(), type=ModelProfile)
        except (msgspec.DecodeError, msgspec.ValidationError):
            cached.unlink(missing_ok=True)
    if model.format is ModelFormat.MLX:
        profile = await _remote_mlx_profile(hub, model)
    else:
        budget = HeaderBudget()
        headers = [await _remote_header(hub, f, budget) for f in model.parts]
        profile = await asyncio.to_thread(profile_from_header, headers[0], headers[1:])
        profile = dataclasses.replace(profile, path=f"{model.repo}/{model.name}")
    if cached is not None:
        json_state.write_bytes(cached, msgspec.json.encode(profile))
    return profile
