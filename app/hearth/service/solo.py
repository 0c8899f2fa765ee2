"""A chat in a command's own engine process (``hearth chat``): the model loaded alone from its file, or
pooled over devices the node running here reserved, and the conversation kept in the history or not.

The command runs its engine itself rather than asking the node to load the model, so that a chat on a
terminal neither replaces the window's model nor waits for its turn; the node only reserves the other
devices' workers, and keeps them for as long as the command's connection to it stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from hearth.core.formats import ModelFormat
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.errors import EngineDied, EngineError
from hearth.engine.messages import Done, Loaded, Sampling
from hearth.models.mlx_model import is_mlx_model
from hearth.service.chat import ChatSession
from hearth.service.drafting import Guessing
from hearth.store import paths
from hearth.store.conversations import ConversationStore


class Reservation(Protocol):
    """Other devices' workers, reserved for one load: what the local API's ``pool`` answers."""

    @property
    def endpoints(self) -> list[str]: ...  # llama.cpp's rpc_servers, in pipeline order

    @property
    def n_gpu_layers(self) -> int: ...

    @property
    def tensor_split(self) -> list[float] | None: ...

    @property
    def host_gpus(self) -> list[int]: ...  # this machine's accelerators in the plan, before the endpoints

    @property
    def rpc_targets(self) -> list[tuple[int, int]]: ...  # the endpoints' device for each range after them


class SoloChat:
    """One conversation with a model in an engine process of this command's own.

    ``history`` False: nothing is written (``--no-history``). ``gpu_layers`` is for a load on this
    device alone (None: as many layers on its GPUs as they hold); a pooled load places its
    layers as the reservation says.
    """

    def __init__(
        self,
        model: str,
        n_ctx: int,
        *,
        threads: int | None = None,
        gpu_layers: int | None = None,
        history: bool = True,
        system_prompt: str = "",
        sampling: Sampling | None = None,
        guessing: Guessing | None = None,
    ) -> None:
        self.model = model
        self.guessing = guessing or Guessing()
        self.n_ctx = n_ctx
        self.threads = threads
        self.gpu_layers = gpu_layers
        self._store = ConversationStore(paths.conversations_db()) if history else None
        self._engine = EngineClient()
        self._session = ChatSession(
            self._engine.generate, model, store=self._store, system_prompt=system_prompt, sampling=sampling
        )

    def request(self, reservation: Reservation | None = None) -> m.LoadModel:
        """The load: alone (llama.cpp, or MLX for an MLX folder), or over the reserved workers; with
        the guessing chosen for it."""
        draft = self.guessing.draft.path if self.guessing.draft is not None else ""
        return msgspec.structs.replace(self._placed(reservation), draft=draft, lookup=self.guessing.lookup)

    def _placed(self, reservation: Reservation | None) -> m.LoadModel:
        if reservation is None:
            backend = m.BACKEND_OF[ModelFormat.MLX if is_mlx_model(self.model) else ModelFormat.GGUF]
            return m.LoadModel(
                self.model,
                n_ctx=self.n_ctx,
                n_threads=self.threads,
                n_gpu_layers=self.gpu_layers,
                backend=backend,
            )
        return m.LoadModel(
            self.model,
            n_ctx=self.n_ctx,
            n_threads=self.threads,
            n_gpu_layers=reservation.n_gpu_layers,
            tensor_split=reservation.tensor_split,
            rpc_servers=reservation.endpoints,
            host_gpus=list(reservation.host_gpus),
            rpc_targets=list(reservation.rpc_targets),
        )

    async def load(
        self, reservation: Reservation | None = None, progress: Callable[[float], None] | None = None
    ) -> Loaded:
        """Load the model (again, after a device failed: a fresh engine process starts)."""
        return await self._engine.load(self.request(reservation), progress)

    async def ask(self, text: str, on_text: Callable[[str], None]) -> Done:
        """Answer ``text``; each piece is stored (with the history on) before ``on_text`` sees it.
        Cancelled, the engine stops and the partial answer is kept."""
        return await self._session.ask(text, on_text)

    async def close(self) -> None:
        """End the engine process and close the history."""
        try:
            await self._engine.close()
        finally:
            if self._store is not None:
                self._store.close()


__all__ = ["Done", "EngineDied", "EngineError", "Loaded", "Reservation", "Sampling", "SoloChat"]
