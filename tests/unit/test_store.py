from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hearth.store import export
from hearth.store.conversations import ConversationStore, MessageStatus


def test_conversation_lifecycle(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    conv = store.create_conversation("First", "m.gguf", "be brief")
    store.add_message(conv, "user", "hi")
    answer = store.begin_answer(conv, "m.gguf")
    for piece in ("Hel", "lo", " ✓"):
        store.append(answer, piece)
    store.finish(answer, prompt_tokens=3, completion_tokens=3, ttft_s=0.1, tokens_per_s=20.0)
    msgs = store.messages(conv)
    assert [(x.role, x.content, x.status) for x in msgs] == [
        ("user", "hi", MessageStatus.DONE),
        ("assistant", "Hello ✓", MessageStatus.DONE),
    ]
    assert msgs[1].tokens_per_s == 20.0
    store.rename(conv, "Renamed")
    renamed = store.conversation(conv)
    assert renamed is not None and renamed.title == "Renamed"
    other = store.create_conversation("Second")
    assert [c.id for c in store.conversations()] == [other, conv]
    store.delete(conv)
    assert store.conversation(conv) is None and store.messages(conv) == []
    store.close()


def test_streaming_answers_become_interrupted_on_reopen(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    store = ConversationStore(db)
    conv = store.create_conversation("t")
    answer = store.begin_answer(conv)
    store.append(answer, "partial")
    # No close: a crashed process never gets to.
    reopened = ConversationStore(db)
    message = reopened.message(answer)
    assert message is not None and (message.content, message.status) == ("partial", "interrupted")


def test_bad_values_are_refused(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    conv = store.create_conversation("t")
    with pytest.raises(sqlite3.IntegrityError):
        store.add_message(conv, "robot", "x")
    with pytest.raises(sqlite3.IntegrityError):
        store.add_message(conv + 100, "user", "x")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    ConversationStore(db).close()
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(RuntimeError, match="newer Hearth"):
        ConversationStore(db)


# The tables as the first Hearth wrote them (schema 1), kept here as they were: a database on disk
# from then must still read.
SCHEMA_1 = """
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
PRAGMA user_version = 1;
"""


def test_a_database_written_by_an_earlier_hearth_reads_typed(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    raw = sqlite3.connect(db)
    raw.executescript(SCHEMA_1)
    raw.execute("INSERT INTO conversations VALUES (1, 'old', 'm.gguf', '', 1.0, 2.0)")
    rows = [
        ("user", "hi", "done", None),
        ("assistant", "Hel", "stopped", None),
        ("user", "again", "done", None),
        ("assistant", "", "failed", "desk stopped answering"),
        ("user", "once more", "done", None),
        ("assistant", "half", "streaming", None),
    ]
    raw.executemany(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, error)"
        " VALUES (1, ?, ?, ?, 1.5, ?)",
        rows,
    )
    raw.commit()
    # A failure was never written with its reason in the status: that column never took one.
    with pytest.raises(sqlite3.IntegrityError):
        raw.execute(
            "INSERT INTO messages (conversation_id, role, status, created_at)"
            " VALUES (1, 'assistant', ?, 1.5)",
            ("failed: desk stopped answering",),
        )
    raw.close()

    store = ConversationStore(db)
    msgs = store.messages(1)
    assert [(x.status, x.error) for x in msgs] == [
        (MessageStatus.DONE, None),
        (MessageStatus.STOPPED, None),
        (MessageStatus.DONE, None),
        (MessageStatus.FAILED, "desk stopped answering"),
        (MessageStatus.DONE, None),
        (MessageStatus.INTERRUPTED, None),  # its process ended while it streamed
    ]
    assert all(type(x.status) is MessageStatus for x in msgs)
    conversation = store.conversation(1)
    assert conversation is not None
    markdown = export.to_markdown(conversation, msgs)
    assert "**Assistant** *(failed)*" in markdown and "**Assistant** *(interrupted)*" in markdown
    assert '"status": "failed"' in export.to_json(conversation, msgs)
    # What this Hearth writes an earlier one still reads: the file keeps its schema.
    store.finish(store.begin_answer(1), MessageStatus.FAILED, error="gone")
    store.close()
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    assert raw.execute("SELECT status, error FROM messages ORDER BY id DESC LIMIT 1").fetchone() == (
        "failed",
        "gone",
    )
    raw.close()
