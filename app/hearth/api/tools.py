"""Tool calls in an answer: the schema that forces one, and reading the calls back out of the text.

Models write calls in their own template's way: Hermes and Qwen as ``<tool_call>{...}</tool_call>``,
Mistral after ``[TOOL_CALLS]``, Llama 3.x as a bare JSON object (after ``<|python_tag|>`` sometimes),
and a call forced by a grammar as the bare object the schema here describes. Each call is an object
with ``name`` and ``arguments`` (Llama 3.x: ``parameters``).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# How an answer that is a call can begin (after blanks); text that cannot begin so is shown at once.
CALL_STARTS = ("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "{", "[")
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI's clients expect it


def call_schema(tools: Sequence[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    """The JSON schema of one call of one of ``tools`` (name, parameters schema): what a grammar holds
    the answer to when the request requires a call."""
    options = [
        {
            "type": "object",
            "properties": {
                "name": {"const": name},
                "arguments": parameters if parameters else {"type": "object"},
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for name, parameters in tools
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def new_id() -> str:
    return f"call_{secrets.token_hex(12)}"


def parse_calls(text: str, names: Sequence[str]) -> list[Call] | None:
    """The calls ``text`` makes of the tools ``names``; None when it is not (wholly) calls, and so is
    an answer in words."""
    body = text.strip()
    if not body:
        return None
    if body.startswith("<tool_call>"):
        found: list[Any] = []
        for part in _TAGGED.findall(body):
            loaded = _loads(part)
            if loaded is None:
                return None
            found.append(loaded)
    else:
        for prefix in ("[TOOL_CALLS]", "<|python_tag|>"):
            body = body.removeprefix(prefix).lstrip()
        loaded = _loads(body)
        if loaded is None:
            return None
        found = loaded if isinstance(loaded, list) else [loaded]
    calls: list[Call] = []
    for item in found:
        call = _call(item, names)
        if call is None:
            return None
        calls.append(call)
    return calls or None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _call(item: Any, names: Sequence[str]) -> Call | None:
    if not isinstance(item, dict) or item.get("name") not in names:
        return None
    arguments = item.get("arguments", item.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = _loads(arguments)
    if not isinstance(arguments, dict):
        return None
    return Call(new_id(), str(item["name"]), json.dumps(arguments, ensure_ascii=False))


class CallWatch:
    """Holds an answer's text back while it may still turn out to be a tool call, so that a streamed
    answer in words streams and a call comes whole, as ``tool_calls``."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.held = ""
        self.words = not self.names  # decided: the answer is in words, shown as it comes

    def feed(self, text: str) -> str:
        """What of the answer can be shown now."""
        if self.words:
            return text
        self.held += text
        start = self.held.lstrip()
        if not start or any(_may_begin(start, marker) for marker in CALL_STARTS):
            return ""
        self.words = True
        shown, self.held = self.held, ""
        return shown

    def finish(self) -> tuple[str, list[Call]]:
        """The rest of the answer in words, or the calls it made."""
        held, self.held = self.held, ""
        if self.words:
            return held, []
        calls = parse_calls(held, self.names)
        return (held, []) if calls is None else ("", calls)


def _may_begin(text: str, marker: str) -> bool:
    return text.startswith(marker) if len(text) >= len(marker) else marker.startswith(text)
