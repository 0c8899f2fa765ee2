"""From what a user types or picks to the files on the hub: a catalog entry, ``owner/repo``,
``owner/repo:Q5_K_M`` or ``owner/repo/file.gguf``."""

from __future__ import annotations

import dataclasses

from hearth.core.formats import ModelFormat
from hearth.models.catalog import CatalogFile, CatalogModel
from hearth.models.hub import Hub, HubError, NotOnHub, RemoteModel


def from_catalog(hub: Hub, entry: CatalogModel, quant: str = "") -> RemoteModel:
    """The hub's files for a catalog entry (blocking). The hub's names and sizes are the truth; where
    the catalog pins the bytes, its pins replace the hub's hashes, so the download is held to them even
    when the hub lists none (a file kept in git, or a mirror that leaves hashes out). An entry without
    pins is verified against what the hub lists (its LFS SHA-256, or a git blob id)."""
    if entry.format is ModelFormat.MLX:
        return hub.mlx_model(entry.repo)
    wanted = entry.file(quant)
    try:
        model = hub.model(entry.repo, wanted.file)
    except NotOnHub:
        # The repository renamed its files: the same quantization under another name will do, as long
        # as its bytes are still the pinned ones.
        model = hub.model(entry.repo, wanted.quant)
    return pin(model, wanted)


def pin(model: RemoteModel, wanted: CatalogFile) -> RemoteModel:
    """``model`` held to the catalog's pins for ``wanted``: every part gets its pinned SHA-256;
    HubError when the hub lists other hashes or another number of parts. Unpinned, ``model`` as it is."""
    pins = wanted.pins()
    if not pins:
        return model
    if len(pins) != len(model.parts):
        raise HubError(
            f"{model.name} on the hub comes in {len(model.parts)} part(s), but Hearth's catalog pins "
            f"{len(pins)}: it is not the model the catalog names; update Hearth, or pick the file from a "
            "hub search"
        )
    parts = []
    for part, sha256 in zip(model.parts, pins, strict=True):
        if part.sha256 and part.sha256.lower() != sha256:
            raise HubError(
                f"{part.name} on the hub is not the file the catalog names (its SHA-256 differs); "
                "update Hearth, or pick the file from a hub search"
            )
        parts.append(dataclasses.replace(part, sha256=sha256, pinned=True))
    return dataclasses.replace(model, parts=tuple(parts))


def resolve(hub: Hub, ref: str, catalog: list[CatalogModel], quant: str = "") -> RemoteModel:
    """The model ``ref`` names (blocking); NotOnHub says what there is when it names nothing."""
    entry = next((m for m in catalog if m.id == ref.lower()), None)
    if entry is not None:
        return from_catalog(hub, entry, quant)
    repo, _, want = ref.partition(":")
    parts = repo.split("/")
    if len(parts) > 2:
        repo, want = "/".join(parts[:2]), "/".join(parts[2:])
    if len(repo.split("/")) != 2 or not all(repo.split("/")):
        ids = ", ".join(m.id for m in catalog[:5])
        raise NotOnHub(f"'{ref}' is neither a catalog model (such as {ids}) nor owner/repository")
    return hub.model(repo, quant or want)
