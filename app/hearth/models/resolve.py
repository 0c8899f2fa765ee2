"""From what a user types or picks to the files on the hub: a catalog entry, ``owner/repo``,
``owner/repo:Q5_K_M`` or ``owner/repo/file.gguf``."""

from __future__ import annotations

from hearth.models.catalog import CatalogModel
from hearth.models.hub import Hub, HubError, NotOnHub, RemoteModel


def from_catalog(hub: Hub, entry: CatalogModel, quant: str = "") -> RemoteModel:
    """The hub's files for a catalog entry (blocking). The hub's names and hashes are the truth; a
    hash pinned in the catalog must agree with them."""
    if entry.format == "mlx":
        return hub.mlx_model(entry.repo)
    wanted = entry.file(quant)
    try:
        model = hub.model(entry.repo, wanted.file)
    except NotOnHub:
        # The repository renamed its files: the same quantization under another name will do.
        model = hub.model(entry.repo, wanted.quant)
    if wanted.sha256 and model.parts[0].sha256 and wanted.sha256 != model.parts[0].sha256:
        raise HubError(
            f"{model.name} on the hub is not the file the catalog names (its SHA-256 differs); "
            "update Hearth, or pick the file from a hub search"
        )
    return model


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
