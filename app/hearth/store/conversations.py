"""Conversations and their messages in SQLite (WAL).

An answer is written as it streams: every piece is committed before it is shown, so a crash or a
kill -9 mid-answer loses nothing the user saw. Answers still marked as streaming when the store is next
opened are marked interrupted.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'done'
        CHECK (status IN ('done', 'streaming', 'stopped', 'failed', 'interrupted')),
    model TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    ttft_s REAL,
    tokens_per_s REAL,
    error TEXT
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
"""


class MessageStatus(StrEnum):
    """Where a message stands; the values are what the ``status`` column holds."""

    DONE = "done"
    STREAMING = "streaming"  # an answer being written
    STOPPED = "stopped"  # the user stopped it: what it had said is kept
    FAILED = "failed"  # ``error`` says why
    INTERRUPTED = "interrupted"  # its process ended while it streamed


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    model: str
    system_prompt: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    role: str
    content: str
    status: MessageStatus
    model: str
    created_at: float
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None
    tokens_per_s: float | None
    error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Message:
        # The column holds the enum's values: the table's CHECK has allowed nothing else since its
        # first schema, a failure's reason always in ``error`` beside it.
        fields: dict[str, Any] = dict(row)
        fields["status"] = MessageStatus(fields["status"])
        return cls(**fields)


class ConversationStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each write is its own transaction, which is what "nothing shown is lost" needs.
        # A window uses the store from one worker thread of its own, never the one that created it.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
        if os.name == "posix" and self.path.exists():
            # Conversations are private; SQLite gives its -wal and -shm files the same mode.
            os.chmod(self.path, 0o600)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only a power cut may drop the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._db.execute(
            "UPDATE messages SET status = ? WHERE status = ?",
            (MessageStatus.INTERRUPTED.value, MessageStatus.STREAMING.value),
        )

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} was written by a newer Hearth (schema {version})")
        if version == 0:
            self._db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def close(self) -> None:
        self._db.close()

    def create_conversation(self, title: str, model: str = "", system_prompt: str = "") -> int:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO conversations (title, model, system_prompt, created_at, updated_at)"
            " VALUES (?,?,?,?,?)",
            (title, model, system_prompt, now, now),
        )
        return int(cur.lastrowid or 0)

    def add_message(self, conversation_id: int, role: str, content: str, model: str = "") -> int:
        return self._insert(conversation_id, role, content, MessageStatus.DONE, model)

    def begin_answer(self, conversation_id: int, model: str = "") -> int:
        """An empty assistant message that ``append`` fills while the answer streams."""
        return self._insert(conversation_id, "assistant", "", MessageStatus.STREAMING, model)

    def _insert(
        self, conversation_id: int, role: str, content: str, status: MessageStatus, model: str
    ) -> int:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, model, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (conversation_id, role, content, status.value, model, now),
        )
        self._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return int(cur.lastrowid or 0)

    def append(self, message_id: int, text: str) -> None:
        self._db.execute("UPDATE messages SET content = content || ? WHERE id = ?", (text, message_id))

    def finish(
        self,
        message_id: int,
        status: MessageStatus = MessageStatus.DONE,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        ttft_s: float | None = None,
        tokens_per_s: float | None = None,
        error: str | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE messages SET status = ?, prompt_tokens = ?, completion_tokens = ?, ttft_s = ?,"
            " tokens_per_s = ?, error = ? WHERE id = ?",
            (status.value, prompt_tokens, completion_tokens, ttft_s, tokens_per_s, error, message_id),
        )

    def rename(self, conversation_id: int, title: str) -> None:
        self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete_last_answer(self, conversation_id: int) -> None:
        """Drop the latest assistant message (to answer the same question again)."""
        self._db.execute(
            "DELETE FROM messages WHERE id = (SELECT MAX(id) FROM messages"
            " WHERE conversation_id = ? AND role = 'assistant')",
            (conversation_id,),
        )

    def delete_last_exchange(self, conversation_id: int) -> None:
        """Drop the latest question and everything after it (to ask it again, edited)."""
        self._db.execute(
            "DELETE FROM messages WHERE conversation_id = ? AND id >= (SELECT MAX(id) FROM messages"
            " WHERE conversation_id = ? AND role = 'user')",
            (conversation_id, conversation_id),
        )

    def delete(self, conversation_id: int) -> None:
        self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def conversations(self) -> list[Conversation]:
        rows = self._db.execute("SELECT * FROM conversations ORDER BY updated_at DESC, id DESC")
        return [Conversation(**dict(r)) for r in rows]

    def conversation(self, conversation_id: int) -> Conversation | None:
        row = self._db.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return Conversation(**dict(row)) if row else None

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        return [Message.from_row(r) for r in rows]

    def message(self, message_id: int) -> Message | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return Message.from_row(row) if row else None
