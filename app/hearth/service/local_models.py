"""The models on this device, the catalog and the hub, for a command that works in its own process
(``hearth models``).

A command needs no node for these: it reads the library and the hub itself and downloads in its own
process, so a download runs (and resumes) whether a window is open or not. ``Models`` is the same for a
running service, with its events and its downloads that the window shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hearth.core.errors import HearthError
from hearth.core.profile import ModelProfile
from hearth.models.catalog import load_catalog, matching
from hearth.models.hub import Hub, RemoteModel
from hearth.models.library import LibraryEntry, ModelLibrary
from hearth.models.remote_profile import remote_profile
from hearth.models.resolve import from_catalog, resolve
from hearth.models.transfer import Progress, download
from hearth.store import paths


@dataclass(frozen=True)
class Found:
    """A model a search found, and where: ``catalog: <id>`` or ``hub: <owner/repo>``."""

    model: RemoteModel
    source: str


class LocalModels:
    """The library, the catalog and the hub for one command: the hub as configured when it is first
    asked (``HF_ENDPOINT``, ``HF_TOKEN``), then the same one for the whole command.

    Each is opened when first used, so that a command that only downloads writes nothing to the
    library's folder (a download that is refused leaves no trace at all)."""

    def __init__(self) -> None:
        self._library: ModelLibrary | None = None
        self._hub: Hub | None = None

    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub()
        return self._hub

    def library(self) -> ModelLibrary:
        if self._library is None:
            self._library = ModelLibrary()
        return self._library

    # --- this device's library ---

    def entries(self) -> list[LibraryEntry]:
        """Every model in the library with its profile, or why it cannot be read any more."""
        return self.library().entries()

    def find(self, name: str) -> str | None:
        """The library's model whose path or file name is ``name``."""
        return next((p for p in self.library().paths() if p == name or p.rsplit("/", 1)[-1] == name), None)

    def delete(self, path: str) -> list[str]:
        """Delete a downloaded model (every part), or forget an imported one (nothing is deleted)."""
        return self.library().delete(path)

    # --- the catalog and the hub ---

    def search(self, text: str, limit: int, on_error: Callable[[str, HearthError], None]) -> list[Found]:
        """The catalog's models matching ``text`` (all of them for no text), then the models of up to
        ``limit`` hub repositories matching it that the catalog does not list (blocking). What cannot
        be read (a catalog entry the hub no longer has, a repository that fails) goes to ``on_error``
        with its name, and the search goes on."""
        hub = self.hub()
        catalog = load_catalog()
        entries = matching(catalog, text) if text else catalog
        found: list[Found] = []
        for entry in entries:
            try:
                found.append(Found(from_catalog(hub, entry), f"catalog: {entry.id}"))
            except HearthError as exc:
                on_error(entry.id, exc)
        if text:
            known = {entry.repo for entry in entries}
            for repo in hub.search(text, limit):
                if repo.repo in known:
                    continue
                try:
                    found += [Found(m, f"hub: {m.repo}") for m in hub.models(repo.repo)]
                except HearthError as exc:
                    on_error(repo.repo, exc)
        return found

    async def profiles(self, found: list[Found]) -> list[ModelProfile | str]:
        """Each model's profile from its header on the hub (remembered), or why it cannot be read."""
        profiles: list[ModelProfile | str] = []
        headers = paths.cache_dir() / "hub-headers"
        for item in found:
            try:
                profiles.append(await remote_profile(self.hub(), item.model, headers))
            except HearthError as exc:
                profiles.append(str(exc))
        return profiles

    def resolve(self, ref: str, quant: str = "") -> RemoteModel:
        """The model ``ref`` names: a catalog id, ``owner/repo``, ``owner/repo:QUANT`` or
        ``owner/repo/file.gguf`` (blocking)."""
        hub = self.hub()
        return resolve(hub, ref, load_catalog(), quant)

    async def download(self, model: RemoteModel, on_progress: Callable[[Progress], None]) -> Path:
        """Download ``model`` into the models folder, resuming what an earlier attempt left; cancelled,
        what arrived stays for the next attempt. Returns its (first) file."""
        return await download(self.hub(), model, paths.models_dir(), on_progress)


__all__ = [
    "Found",
    "LibraryEntry",
    "LocalModels",
    "Progress",
    "RemoteModel",
]
