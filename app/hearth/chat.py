"""A conversation with a loaded model: history, streaming into the store, timings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineError
from hearth.store.conversations import ConversationStore

TITLE_CHARS = 60


@dataclass(frozen=True)
class Sampling:
    max_tokens: int = 512
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None


class ChatSession:
    """One conversation. Without a store nothing is written (``--no-history``)."""

    def __init__(
        self,
        engine: EngineClient,
        model: str,
        *,
        store: ConversationStore | None = None,
        system_prompt: str = "",
        sampling: Sampling | None = None,
    ) -> None:
        self.engine = engine
        self.model = model
        self.store = store
        self.system_prompt = system_prompt
        self.sampling = sampling or Sampling()
        self.history: list[m.ChatMessage] = []
        self.conversation_id: int | None = None

    def _messages(self) -> list[m.ChatMessage]:
        system = [m.ChatMessage("system", self.system_prompt)] if self.system_prompt else []
        return system + self.history

    def _ensure_conversation(self, first_text: str) -> int | None:
        if self.store is None:
            return None
        if self.conversation_id is None:
            title = " ".join(first_text.split())[:TITLE_CHARS] or "New chat"
            self.conversation_id = self.store.create_conversation(title, self.model, self.system_prompt)
        return self.conversation_id

    async def ask(self, text: str, on_text: Callable[[str], None]) -> m.Done:
        """Send a user message and stream the answer; each piece is stored before ``on_text`` sees it."""
        conv = self._ensure_conversation(text)
        self.history.append(m.ChatMessage("user", text))
        answer_id = None
        if self.store is not None and conv is not None:
            self.store.add_message(conv, "user", text, self.model)
            answer_id = self.store.begin_answer(conv, self.model)
        parts: list[str] = []

        def on_token(token: m.Token) -> None:
            if not token.text:
                return
            if self.store is not None and answer_id is not None:
                self.store.append(answer_id, token.text)
            parts.append(token.text)
            on_text(token.text)

        s = self.sampling
        request = m.Generate(
            0,
            messages=self._messages(),
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
            top_p=s.top_p,
            min_p=s.min_p,
            repeat_penalty=s.repeat_penalty,
            seed=s.seed,
        )
        try:
            done = await self.engine.generate(request, on_token)
        except BaseException as exc:
            self.history.append(m.ChatMessage("assistant", "".join(parts)))
            if self.store is not None and answer_id is not None:
                failed = isinstance(exc, EngineError)
                self.store.finish(
                    answer_id, "failed" if failed else "stopped", error=str(exc) if failed else None
                )
            raise
        self.history.append(m.ChatMessage("assistant", "".join(parts)))
        if self.store is not None and answer_id is not None:
            self.store.finish(
                answer_id,
                "stopped" if done.reason == "cancelled" else "done",
                prompt_tokens=done.prompt_tokens,
                completion_tokens=done.completion_tokens,
                ttft_s=done.ttft_s,
                tokens_per_s=done.decode_tokens_per_s,
            )
        return done
