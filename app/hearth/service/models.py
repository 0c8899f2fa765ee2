"""The models this device has and can get: its library, the catalog, the hub, and downloads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hearth.core.formats import ModelFormat
from hearth.core.profile import ModelProfile
from hearth.engine import mlx_runtime
from hearth.models import resolve
from hearth.models.catalog import CatalogModel, load_catalog
from hearth.models.hub import Hub, HubRepo, HubUnreachable, RemoteModel
from hearth.models.library import LibraryEntry, ModelLibrary, same_model_key
from hearth.models.remote_profile import remote_profile
from hearth.service.downloads import DownloadJob, Downloads, State
from hearth.service.errors import ServiceError
from hearth.service.events import Event
from hearth.store import paths

T = TypeVar("T")
OnDisk = Callable[..., Awaitable[Any]]


class Models:
    def __init__(
        self, on_disk: OnDisk, emit: Callable[[Event], None], in_use: Callable[[], str | None]
    ) -> None:
        """``in_use``: the path of the model being served, which may not be deleted."""
        self._on_disk = on_disk
        self._emit = emit
        self._in_use = in_use
        self._library = ModelLibrary()
        self._downloads = Downloads(paths.models_dir, self.hub, self._download_changed)
        self._catalog: list[CatalogModel] | None = None

    async def close(self) -> None:
        await self._downloads.close()

    # --- this device's library ---

    async def entries(self) -> list[LibraryEntry]:
        result: list[LibraryEntry] = await self._on_disk(self._library.entries)
        return result

    async def import_file(self, path: str) -> ModelProfile:
        """Add a GGUF file (or MLX folder) from anywhere on this device to the library."""
        profile: ModelProfile = await self._on_disk(self._library.import_file, path)
        self._emit(Event.LIBRARY)
        return profile

    async def delete(self, path: str) -> list[str]:
        """Delete a downloaded model (every part), or forget an imported one."""
        if self._in_use() == path:
            raise ServiceError("the model is loaded: unload it before deleting it")
        deleted: list[str] = await self._on_disk(self._library.delete, path)
        self._emit(Event.LIBRARY)
        return deleted

    # --- the catalog and the hub ---

    def hub(self) -> Hub:
        """The hub as configured now (``HF_ENDPOINT``, ``HF_TOKEN``)."""
        return Hub()

    def catalog(self) -> list[CatalogModel]:
        """The catalog's models for this device: MLX builds only where MLX runs (Apple Silicon, or
        Linux with mlx[cpu])."""
        if self._catalog is None:
            mlx = mlx_runtime.available()
            self._catalog = [m for m in load_catalog() if m.format is not ModelFormat.MLX or mlx]
        return self._catalog

    async def search_hub(self, text: str, limit: int = 20) -> list[HubRepo]:
        return await asyncio.to_thread(self.hub().search, text, limit)

    async def hub_models(self, repo: str) -> list[RemoteModel]:
        """The GGUF models of a hub repository."""
        return await asyncio.to_thread(self.hub().models, repo)

    async def catalog_model(self, entry: CatalogModel, quant: str = "") -> RemoteModel:
        return await asyncio.to_thread(resolve.from_catalog, self.hub(), entry, quant)

    async def remote_profile(self, model: RemoteModel) -> ModelProfile:
        """A hub model's profile from its header (a few Range requests, remembered)."""
        return await remote_profile(self.hub(), model, paths.cache_dir() / "hub-headers")

    # --- downloads ---

    def downloads(self) -> dict[str, DownloadJob]:
        """Downloads of this session by key, oldest first."""
        return dict(self._downloads.jobs)

    def download(self, model: RemoteModel) -> DownloadJob:
        """Start or resume downloading ``model`` into the models folder."""
        return self._downloads.start(model)

    async def pause_download(self, key: str) -> None:
        await self._downloads.pause(key)

    def resume_download(self, key: str) -> DownloadJob:
        return self._downloads.resume(key)

    async def cancel_download(self, key: str) -> None:
        await self._downloads.cancel(key)

    def _download_changed(self, job: DownloadJob) -> None:
        self._emit(Event.DOWNLOADS)
        if job.state is State.DONE:
            self._emit(Event.LIBRARY)


__all__ = [
    "CatalogModel",
    "HubRepo",
    "HubUnreachable",
    "LibraryEntry",
    "Models",
    "RemoteModel",
    "same_model_key",
]
