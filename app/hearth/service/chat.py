"""A conversation with a loaded model: history, streaming into the store, timings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import msgspec

from hearth.engine import messages as m
from hearth.engine.client import EngineError
from hearth.engine.messages import ChatMessage, Done, Sampling
from hearth.store.conversations import ConversationStore, MessageStatus

TITLE_CHARS = 60
T = TypeVar("T")
# Runs one request on the model, handing each token over as it comes (an engine's, or the service's
# that first waits for the model's turn).
Generator = Callable[[m.Generate, Callable[[m.Token], None]], Awaitable[m.Done]]


class ChatSession:
    """One conversation. Without a store nothing is written (``--no-history``).

    With an ``executor`` (one thread) every store call runs there, in order, so that a window's event
    loop never waits on the disk; each piece of an answer is queued for writing before it is shown.
    """

    def __init__(
        self,
        generate: Generator,
        model: str,
        *,
        store: ConversationStore | None = None,
        system_prompt: str = "",
        sampling: m.Sampling | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.generate = generate
        self.model = model
        self.store = store
        self.system_prompt = system_prompt
        self.sampling = sampling or m.Sampling()
        self.history: list[m.ChatMessage] = []
        self.conversation_id: int | None = None
        self.executor = executor

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self.executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def resume(self, conversation_id: int, messages: list[m.ChatMessage], system_prompt: str) -> None:
        """Carry on a stored conversation."""
        self.conversation_id = conversation_id
        self.history = [msg for msg in messages if msg.role != "system"]
        self.system_prompt = system_prompt

    def _messages(self) -> list[m.ChatMessage]:
        system = [m.ChatMessage("system", self.system_prompt)] if self.system_prompt else []
        return system + self.history

    async def _ensure_conversation(self, first_text: str) -> int | None:
        if self.store is None:
            return None
        if self.conversation_id is None:
            title = " ".join(first_text.split())[:TITLE_CHARS] or "New chat"
            self.conversation_id = await self._call(
                self.store.create_conversation, title, self.model, self.system_prompt
            )
        return self.conversation_id

    async def reply(self, messages: list[m.ChatMessage], on_text: Callable[[str], None]) -> m.Done:
        """Answer a conversation given whole, as another app sends it: the messages go to the model
        as they are; with a store, they are kept as a new conversation."""
        self.system_prompt = ""
        self.history = list(messages)
        if self.store is not None:
            first = next((x.content for x in messages if x.role == "user"), "")
            self.system_prompt = next((x.content for x in messages if x.role == "system"), "")
            conv = await self._ensure_conversation(first)
            self.system_prompt = ""
            for x in messages:
                if x.role in ("user", "assistant") and conv is not None:
                    await self._call(self.store.add_message, conv, x.role, x.content, self.model)
        return await self._answer(on_text)

    async def regenerate(self, on_text: Callable[[str], None]) -> m.Done:
        """Answer the last question again, replacing the last answer."""
        if self.history and self.history[-1].role == "assistant":
            self.history.pop()
            if self.store is not None and self.conversation_id is not None:
                await self._call(self.store.delete_last_answer, self.conversation_id)
        if not self.history or self.history[-1].role != "user":
            raise EngineError("there is no question to answer again")
        return await self._answer(on_text)

    async def take_back(self) -> str:
        """Withdraw the last question and its answer, returning the question (to edit and ask again)."""
        last = max((i for i, x in enumerate(self.history) if x.role == "user"), default=None)
        if last is None:
            raise EngineError("there is no question to take back")
        question = self.history[last].content
        del self.history[last:]
        if self.store is not None and self.conversation_id is not None:
            await self._call(self.store.delete_last_exchange, self.conversation_id)
        return question

    async def ask(self, text: str, on_text: Callable[[str], None]) -> m.Done:
        """Send a user message and stream the answer; each piece is stored before ``on_text`` sees it."""
        conv = await self._ensure_conversation(text)
        self.history.append(m.ChatMessage("user", text))
        if self.store is not None and conv is not None:
            await self._call(self.store.add_message, conv, "user", text, self.model)
        return await self._answer(on_text)

    async def _answer(self, on_text: Callable[[str], None]) -> m.Done:
        conv = self.conversation_id
        answer_id = None
        if self.store is not None and conv is not None:
            answer_id = await self._call(self.store.begin_answer, conv, self.model)
        parts: list[str] = []
        store, executor = self.store, self.executor

        def on_token(token: m.Token) -> None:
            if not token.text:
                return
            if store is not None and answer_id is not None:
                if executor is None:
                    store.append(answer_id, token.text)
                else:
                    executor.submit(store.append, answer_id, token.text)
            parts.append(token.text)
            on_text(token.text)

        request = m.Generate(0, messages=self._messages(), **msgspec.structs.asdict(self.sampling))
        try:
            done = await self.generate(request, on_token)
        except BaseException as exc:
            self.history.append(m.ChatMessage("assistant", "".join(parts)))
            if store is not None and answer_id is not None:
                failed = isinstance(exc, EngineError)
                status, error = (MessageStatus.FAILED, str(exc)) if failed else (MessageStatus.STOPPED, None)
                if executor is None:
                    store.finish(answer_id, status, error=error)
                else:
                    # Queued behind the answer's pieces; not awaited, since the turn may be cancelled.
                    executor.submit(lambda: store.finish(answer_id, status, error=error))
            raise
        self.history.append(m.ChatMessage("assistant", "".join(parts)))
        if self.store is not None and answer_id is not None:
            await self._call(self._finish_done, answer_id, done)
        return done

    def _finish_done(self, answer_id: int, done: m.Done) -> None:
        assert self.store is not None
        self.store.finish(
            answer_id,
            MessageStatus.STOPPED if done.reason == "cancelled" else MessageStatus.DONE,
            prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens,
            ttft_s=done.ttft_s,
            tokens_per_s=done.decode_tokens_per_s,
        )


__all__ = ["ChatMessage", "ChatSession", "Done", "Generator", "MessageStatus", "Sampling"]
