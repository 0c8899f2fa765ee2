from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hearth.store.conversations import ConversationStore


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
        ("user", "hi", "done"),
        ("assistant", "Hello ✓", "done"),
    ]
    assert msgs[1].tokens_per_s == 20.0
    store.rename(conv, "Renamed")
    assert store.conversation(conv).title == "Renamed"
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
