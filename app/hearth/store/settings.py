"""User settings that outlive a run: what this device donates to paired hosts, the API for other apps,
what a host does when a device of its plan leaves."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

from hearth.engine import threads as engine_threads
from hearth.store import paths

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
T = TypeVar("T")
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str) -> int:
    """'8G', '512M', '1.5GiB' or a plain byte count."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a size like 8G or 512M")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


@dataclass(frozen=True)
class Donation:
    enabled: bool = False
    max_memory: int = 0  # bytes; 0: half of this device's memory
    threads: int = 0  # 0: one per physical core, as llama.cpp itself chooses

    def effective_memory(self, total_memory: int) -> int:
        return self.max_memory or total_memory // 2

    def effective_threads(self) -> int:
        return engine_threads.resolve(self.threads)


DEFAULT_API_PORT = 47312


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API other apps use (OpenAI's shape)."""

    enabled: bool = True
    port: int = DEFAULT_API_PORT
    lan: bool = False  # listen on every interface too; then every request needs the key
    host: str = ""  # listen on this address only ("" : 127.0.0.1, or every interface with ``lan``)
    origins: tuple[str, ...] = ()  # web pages allowed to call it (CORS); none by default
    keep_history: bool = False  # write its conversations to the chat history

    @property
    def needs_key(self) -> bool:
        return self.lan or self.host not in ("", "127.0.0.1", "::1", "localhost")

    @property
    def listen_host(self) -> str | None:
        """The address to bind; None: every interface."""
        if self.host:
            return self.host
        return None if self.lan else "127.0.0.1"


@dataclass(frozen=True)
class Pooling:
    """What the host does when a device of the loaded plan leaves."""

    replan_automatically: bool = False  # load the best plan over the devices left, without asking


def _path() -> os.PathLike[str]:
    return paths.config_dir() / "settings.json"


def _load_all() -> dict[str, Any]:
    try:
        with open(_path(), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _load(section: str, kind: type[T]) -> T:
    data = _load_all().get(section, {})
    fields = kind.__dataclass_fields__  # type: ignore[attr-defined]
    try:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields}
        return kind(**values)
    except (TypeError, AttributeError):
        return kind()


def _save(section: str, value: Any) -> None:
    data = _load_all()
    data[section] = asdict(value)
    with open(_path(), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


def _update(section: str, kind: type[T], changes: dict[str, object]) -> T:
    """The section with ``changes`` applied, saved; lists become tuples as every setting keeps them."""
    changed = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    value = replace(_load(section, kind), **changed)  # type: ignore[type-var]
    _save(section, value)
    return value


def load_donation() -> Donation:
    return _load("donation", Donation)


def update_donation(**changes: object) -> Donation:
    return _update("donation", Donation, changes)


def load_api() -> ApiSettings:
    return _load("api", ApiSettings)


def update_api(**changes: object) -> ApiSettings:
    return _update("api", ApiSettings, changes)


def load_pooling() -> Pooling:
    return _load("pooling", Pooling)


def update_pooling(**changes: object) -> Pooling:
    return _update("pooling", Pooling, changes)
