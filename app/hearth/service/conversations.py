"""Conversations with the served model, and the history this device keeps of them."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from enum import StrEnum
from pathlib import Path
from typing import Any

from hearth.engine.messages import Sampling
from hearth.service.chat import ChatSession, Generator
from hearth.service.errors import ServiceError
from hearth.service.turns import Who
from hearth.store import export, paths
from hearth.store.conversations import Conversation, ConversationStore, Message

OnDisk = Callable[..., Awaitable[Any]]


class ExportFormat(StrEnum):
    MARKDOWN = "md"
    JSON = "json"


class Conversations:
    def __init__(
        self,
        on_disk: OnDisk,
        disk: Executor,
        generate: Callable[..., Awaitable[Any]],
        model: Callable[[], str],
        keep_others: Callable[[], bool],
    ) -> None:
        """``generate``: serving's (a request, its tokens, who asks); ``model``: the served model's
        path, "" when none; ``keep_others``: whether other apps' conversations are kept too."""
        self._on_disk = on_disk
        self._disk = disk
        self._generate = generate
        self._model = model
        self._keep_others = keep_others
        self._store: ConversationStore | None = None

    async def start(self) -> None:
        self._store = await self._on_disk(ConversationStore, paths.conversations_db())

    async def close(self) -> None:
        if self._store is not None:
            await self._on_disk(self._store.close)
            self._store = None

    def _opened(self) -> ConversationStore:
        if self._store is None:
            raise ServiceError("the conversation history is not open")
        return self._store

    def chat(
        self,
        system_prompt: str = "",
        sampling: Sampling | None = None,
        who: Who = Who.CHAT,
        client: str = "",
        device: str = "",
        model: str = "",
    ) -> ChatSession:
        """A conversation with the loaded model. Other apps' conversations are kept in the history
        only when the user asked for that. ``client``: which app asks, so that no one app takes every
        answer the model gives at once ("": one for every caller of its kind). ``device``: the paired
        device that must answer, by name or ID ("": wherever it starts soonest), with ``model`` (the
        name an app asked for; "": the model loaded here)."""
        keep = who is Who.CHAT or self._keep_others()
        generate: Generator = functools.partial(
            self._generate, who=who, client=client, device=device, model=model
        )
        return ChatSession(
            generate,
            self._model(),
            store=self._store if keep else None,
            system_prompt=system_prompt,
            sampling=sampling,
            executor=self._disk,
        )

    async def listed(self) -> list[Conversation]:
        """The kept conversations, most recent first."""
        store = self._opened()
        found: list[Conversation] = await self._on_disk(store.conversations)
        return found

    async def read(self, conversation_id: int) -> tuple[Conversation, list[Message]] | None:
        """A conversation and its messages; None when it is gone."""
        store = self._opened()

        def read() -> tuple[Conversation, list[Message]] | None:
            conversation = store.conversation(conversation_id)
            return None if conversation is None else (conversation, store.messages(conversation_id))

        found: tuple[Conversation, list[Message]] | None = await self._on_disk(read)
        return found

    async def rename(self, conversation_id: int, title: str) -> None:
        await self._on_disk(self._opened().rename, conversation_id, title)

    async def delete(self, conversation_id: int) -> None:
        await self._on_disk(self._opened().delete, conversation_id)

    async def export(self, conversation_id: int, kind: ExportFormat, target: Path) -> None:
        """Write a conversation to ``target`` as Markdown or JSON."""
        store = self._opened()

        def write() -> None:
            conversation = store.conversation(conversation_id)
            if conversation is None:
                raise ServiceError("the conversation is gone")
            messages = store.messages(conversation_id)
            render = export.to_markdown if kind is ExportFormat.MARKDOWN else export.to_json
            target.write_text(render(conversation, messages), encoding="utf-8")

        await self._on_disk(write)


__all__ = ["Conversation", "Conversations", "ExportFormat", "Message"]
