"""Embeddings: vectors of texts from a model of the library, for other apps' search over a household's
notes.

The embedding model runs in an engine process of its own (``engine.embedding_client``), beside the chat
model's, so an answer and an embedding never wait on each other. It is loaded by the first request that
names it, when this device has the memory for it, kept while requests keep coming, and unloaded after an
idle time (Ollama's ``keep_alive``: five minutes unless a request says otherwise). One model is loaded at
a time; a request naming another takes its place once the requests before it are answered.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hearth.core.formats import ModelFormat
from hearth.core.memory import F32, device_memory
from hearth.core.profile import ModelProfile
from hearth.core.units import MIB
from hearth.engine import messages as m
from hearth.engine.errors import EngineDied
from hearth.models.library import LibraryEntry
from hearth.service.errors import ServiceError
from hearth.service.on_demand import served_as, served_name
from hearth.service.planning import host_repack, this_device_alone

log = logging.getLogger(__name__)
KEEP_ALIVE_S = 300.0  # Ollama's default
# The context an embedding model is loaded with, at most: the whole of it is one micro-batch (a pooled
# vector must come from one), and llama.cpp's attention scores grow with its square.
EMBED_CTX = 2048
# What one answer of the engine may carry: the vectors of a longer batch come in several.
ANSWER_BYTES = m.MAX_FRAME // 2


class ModelNotFound(ServiceError):
    """No model of the library goes by the name a request gave."""


class NotEnoughMemory(ServiceError):
    """The embedding model does not fit in the memory this device has free."""


class Engine(Protocol):
    """What embeddings need of their engine process (``engine.embedding_client.EmbeddingClient``)."""

    @property
    def loaded(self) -> m.Loaded | None: ...

    async def load(self, request: m.LoadModel) -> m.Loaded: ...

    async def embed(self, request: m.Embed) -> m.Embedded: ...

    async def unload(self) -> None: ...

    async def close(self) -> None: ...


class Library(Protocol):
    async def entries(self) -> list[LibraryEntry]: ...


@dataclass(frozen=True)
class EmbeddingModel:
    name: str  # as other apps name it: its file name without ``.gguf``
    profile: ModelProfile
    n_ctx: int

    @property
    def dimension(self) -> int:
        return self.profile.embedding_length


@dataclass(frozen=True)
class Embedding:
    """The vectors of a batch, in its order: ``dimension`` little-endian float32 values each."""

    model: str
    dimension: int
    data: bytes
    prompt_tokens: int
    load_s: float  # 0 when the model was loaded already
    embed_s: float

    def __len__(self) -> int:
        return len(self.data) // (4 * self.dimension) if self.dimension else 0

    def floats(self) -> list[list[float]]:
        rows: list[list[float]] = np.frombuffer(self.data, "<f4").reshape(len(self), self.dimension).tolist()
        return rows

    def base64(self, index: int) -> str:
        """Vector ``index`` as OpenAI's base64 encoding: its float32 bytes, little-endian."""
        size = 4 * self.dimension
        return base64.b64encode(self.data[index * size : (index + 1) * size]).decode("ascii")


def memory_needed(profile: ModelProfile, n_ctx: int, shared_weights: bool = False) -> int:
    """What loading ``profile`` for embeddings takes, as the planner sizes a model on this device, plus
    the attention scores of a whole context in one micro-batch. ``shared_weights``: the chat model is
    the same file, whose mapped weights both engines read from the same pages."""
    need = device_memory(profile, 0, profile.block_count, n_ctx, host=True, repack=host_repack())
    scores = n_ctx * n_ctx * profile.head_count * F32
    return (need.kv + need.compute if shared_weights else need.total) + scores


def _free_memory() -> int:
    return this_device_alone().memory_bytes


class Embeddings:
    def __init__(
        self,
        engine: Engine,
        library: Library,
        served: Callable[[], ModelProfile | None],
        free_memory: Callable[[], int] = _free_memory,
    ) -> None:
        """``served``: the chat model's profile while one is loaded."""
        self._engine = engine
        self._library = library
        self._served = served
        self._free_memory = free_memory
        self._lock = asyncio.Lock()
        self._loaded: EmbeddingModel | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._unloading: asyncio.Task[None] | None = None
        self._requests = 0  # requests begun: an idle unload is for the quiet after the last of them
        self._closed = False

    @property
    def loaded(self) -> EmbeddingModel | None:
        """The model loaded for embeddings now, if any."""
        return self._loaded

    async def model(self, name: str) -> EmbeddingModel:
        """The model of the library (or the chat model) that ``name`` names; ModelNotFound otherwise."""
        if self._loaded is not None and served_as(name, self._loaded.name):
            return self._loaded
        profiles = [
            e.profile for e in await self._library.entries() if e.profile is not None and not e.problem
        ]
        served = self._served()
        for profile in [served, *profiles] if served is not None else profiles:
            if served_as(name, served_name(profile.path)):
                if profile.format is not ModelFormat.GGUF:
                    raise ModelNotFound(f"'{name}' is an MLX model; embeddings need a GGUF model")
                n_ctx = min(profile.context_length or EMBED_CTX, EMBED_CTX)
                return EmbeddingModel(served_name(profile.path), profile, n_ctx)
        raise ModelNotFound(f"there is no model '{name}' in Hearth's library")

    async def embed(
        self,
        name: str,
        texts: Sequence[str] = (),
        tokens: Sequence[Sequence[int]] = (),
        *,
        truncate: bool = True,
        normalize: bool = True,
        keep_alive_s: float | None = None,
    ) -> Embedding:
        """Vectors of ``texts`` (or token IDs, ``tokens``) from the model ``name``, loaded first if it
        is not. ``keep_alive_s``: how long the model stays loaded after this request (None: five
        minutes; 0: unloaded at once; negative: until another takes its place)."""
        model = await self.model(name)
        async with self._lock:
            if self._closed:
                raise ServiceError("Hearth is shutting down")
            self._cancel_idle()
            self._requests += 1
            load_s = await self._ensure(model)
            try:
                data, prompt_tokens, embed_s = await self._run(
                    model, list(texts), [list(t) for t in tokens], truncate, normalize
                )
            except EngineDied:
                self._loaded = None  # the next request starts a new engine and loads the model again
                raise
            finally:
                await self._keep(keep_alive_s)
        return Embedding(model.name, model.dimension, data, prompt_tokens, load_s, embed_s)

    async def _run(
        self,
        model: EmbeddingModel,
        texts: list[str],
        tokens: list[list[int]],
        truncate: bool,
        normalize: bool,
    ) -> tuple[bytes, int, float]:
        per_answer = max(1, min(m.MAX_EMBED_INPUTS, ANSWER_BYTES // (4 * max(1, model.dimension))))
        data: list[bytes] = []
        prompt_tokens, embed_s = 0, 0.0
        count = len(texts) + len(tokens)
        for start in range(0, count, per_answer):
            end = start + per_answer
            done = await self._engine.embed(
                m.Embed(0, texts[start:end], tokens[start:end], truncate=truncate, normalize=normalize)
            )
            data.append(done.vectors)
            prompt_tokens += done.prompt_tokens
            embed_s += done.embed_s
        return b"".join(data), prompt_tokens, embed_s

    async def _ensure(self, model: EmbeddingModel) -> float:
        """Load ``model`` unless it is loaded; the seconds the load took."""
        if self._engine.loaded is None:
            self._loaded = None  # the engine ended meanwhile (llama.cpp aborted it, say): load again
        if self._loaded is not None and self._loaded.profile.path == model.profile.path:
            return 0.0
        if self._loaded is not None:
            self._loaded = None
            await self._engine.unload()
        served = self._served()
        shared = served is not None and served.path == model.profile.path
        need, free = memory_needed(model.profile, model.n_ctx, shared), self._free_memory()
        if need > free:
            raise NotEnoughMemory(
                f"the embedding model '{model.name}' needs about {need // MIB} MiB and this device has "
                f"{free // MIB} MiB to spare: close other programs, unload the chat model, or choose a "
                "smaller embedding model"
            )
        loaded = await self._engine.load(m.LoadModel(model.profile.path, n_ctx=model.n_ctx, n_gpu_layers=0))
        log.info("embedding model %s loaded in %.2f s", model.name, loaded.load_s)
        self._loaded = model
        return loaded.load_s

    async def _keep(self, keep_alive_s: float | None) -> None:
        keep = KEEP_ALIVE_S if keep_alive_s is None else keep_alive_s
        if keep == 0:
            await self._unload()
        elif keep > 0 and self._loaded is not None:
            self._idle = asyncio.get_running_loop().call_later(keep, self._on_idle, self._requests)

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _on_idle(self, requests: int) -> None:
        self._idle = None
        self._unloading = asyncio.ensure_future(self._unload_when_free(requests))

    async def _unload_when_free(self, requests: int) -> None:
        async with self._lock:
            if self._requests == requests:  # no request came meanwhile with a time of its own
                await self._unload()

    async def _unload(self) -> None:
        if self._loaded is None:
            return
        self._loaded = None
        try:
            await self._engine.unload()
        except Exception as exc:  # the process is gone or refused: the next load starts afresh anyway
            log.warning("unloading the embedding model: %s", exc)

    async def close(self) -> None:
        self._closed = True
        self._cancel_idle()
        if self._unloading is not None:
            self._unloading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._unloading
        self._loaded = None
        with contextlib.suppress(Exception):
            await self._engine.close()
