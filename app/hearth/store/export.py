"""A conversation written out for people (Markdown) or for programs (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict

from hearth.store.conversations import Conversation, Message, MessageStatus

_ROLE = {"user": "You", "assistant": "Assistant", "system": "System"}


def to_markdown(conversation: Conversation, messages: list[Message]) -> str:
    parts = [f"# {conversation.title}", ""]
    if conversation.model:
        parts += [f"*Model: {conversation.model}*", ""]
    if conversation.system_prompt:
        parts += ["**System**", "", conversation.system_prompt, ""]
    for msg in messages:
        note = "" if msg.status is MessageStatus.DONE else f" *({msg.status.value})*"
        parts += [f"**{_ROLE.get(msg.role, msg.role)}**{note}", "", msg.content, ""]
    return "\n".join(parts).rstrip() + "\n"


def to_json(conversation: Conversation, messages: list[Message]) -> str:
    return json.dumps(
        {"conversation": asdict(conversation), "messages": [asdict(m) for m in messages]},
        indent=2,
        ensure_ascii=False,
    )
