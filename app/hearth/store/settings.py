"""User settings that outlive a run: what this device donates to paired hosts, the API for other apps,
what a host does when a device of its plan leaves.

They live in ``settings.json``, one object per section, read through ``json_state``: converted
strictly into these types (a value of the wrong type makes the file damaged, which is kept as
``settings.json.corrupt`` and reported, never guessed at or written over), and written atomically.
Sections and fields this version does not know, written by a newer one, are kept in the file as they
are, so going back and forth between versions loses nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from hearth.core.errors import HearthError
from hearth.core.offload import gpu_headroom
from hearth.engine import threads as engine_threads
from hearth.store import json_state, paths

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
T = TypeVar("T")
SETTINGS_FILE = "settings.json"
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
    max_vram: int = 0  # bytes on each GPU; 0: its memory less what its driver and desktop keep
    # Answer paired devices' apps with the model loaded here, when theirs is busy or elsewhere.
    answers: bool = False
    # And with nothing loaded here, load the same file of this device's library for them: a load
    # takes this device's memory, so it is a consent of its own.
    loads: bool = False

    @property
    def loads_for_devices(self) -> bool:
        """Whether a model of the library may be loaded here for paired devices' apps: both consents."""
        return self.answers and self.loads

    def effective_memory(self, total_memory: int) -> int:
        return self.max_memory or total_memory // 2

    def effective_vram(self, gpu_memory: int) -> int:
        """What a GPU with ``gpu_memory`` bytes lends: the cap, never past the GPU's memory less
        its headroom."""
        most = max(0, gpu_memory - gpu_headroom(gpu_memory))
        return min(self.max_vram, most) if self.max_vram else most

    def effective_threads(self) -> int:
        return engine_threads.resolve(self.threads)


DEFAULT_API_PORT = 47312
# The Ollama API's own port: Ollama's is 11434, which users who also run Ollama keep for it.
DEFAULT_OLLAMA_PORT = 11435


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API other apps use (OpenAI's shape)."""

    enabled: bool = True
    port: int = DEFAULT_API_PORT
    lan: bool = False  # listen on every interface too; then every request needs the key
    host: str = ""  # listen on this address only ("" : 127.0.0.1, or every interface with ``lan``)
    origins: tuple[str, ...] = ()  # web pages allowed to call it (CORS); none by default
    keep_history: bool = False  # write its conversations to the chat history
    ollama: bool = True  # speak Ollama's API too, beside OpenAI's, with the same addresses and key
    ollama_port: int = DEFAULT_OLLAMA_PORT
    load_on_request: bool = True  # a request naming another model of the library loads it
    pool_on_request: bool = False  # ... even when its plan reserves other devices
    # An app's request that finds the model here busy may go to a paired device that offers a place.
    send_to_devices: bool = True

    def listens_like(self, other: ApiSettings) -> bool:
        """Whether a listener started with ``other`` serves these settings as it is. What each request
        is given (history, models loaded on request) is read as it comes, and which port each API
        takes is its own question (``HttpApi._port_of``); everything else decides who is let in."""
        per_request = {
            "keep_history",
            "load_on_request",
            "pool_on_request",
            "send_to_devices",
            "ollama",
            "ollama_port",
        }
        return all(
            getattr(self, f.name) == getattr(other, f.name)
            for f in dataclasses.fields(self)
            if f.name not in per_request
        )

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


# What guesses tokens ahead of an answer (speculative decoding): a draft model of the library that
# shares the model's tokenizer, else the answer's own text ("auto"); the answer's own text only
# ("lookup"); nothing ("none"); or a draft model's file.
DRAFT_CHOICES = ("auto", "lookup", "none")


@dataclass(frozen=True)
class Speculation:
    """How answers guess tokens ahead for the model to verify several at a pass."""

    draft: str = "auto"  # one of DRAFT_CHOICES, or the path of a draft model


# The most answers a user may ask a model to give at once; 0 in ``Answering.at_once``: as many as memory
# allows, up to this.
MOST_AT_ONCE = 4


@dataclass(frozen=True)
class Answering:
    """How many answers a loaded model gives together (continuous batching)."""

    at_once: int = 0  # 1 to MOST_AT_ONCE; 0: as many as memory allows beside the weights

    @property
    def chosen(self) -> int:
        """The choice, within what Hearth offers (a file edited by hand may say anything)."""
        return min(max(0, self.at_once), MOST_AT_ONCE)


@dataclass(frozen=True)
class Settings:
    """Every section of ``settings.json`` this version knows."""

    donation: Donation = field(default_factory=Donation)
    api: ApiSettings = field(default_factory=ApiSettings)
    pooling: Pooling = field(default_factory=Pooling)
    speculation: Speculation = field(default_factory=Speculation)
    answering: Answering = field(default_factory=Answering)


class SettingsError(HearthError, ValueError):
    """A change that names no setting, or gives one a value of the wrong type."""


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


def load_settings() -> Settings:
    """The stored settings; the defaults where there are none (or the file was damaged and set aside)."""
    return json_state.load(settings_path(), Settings, Settings)


def _update(section: str, kind: type[T], changes: dict[str, object]) -> T:
    """The section with ``changes`` applied, checked as the file is checked, and saved."""
    known = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(changes) - known)
    if unknown:
        raise SettingsError(f"there is no {section} setting named {', '.join(unknown)}")
    path = settings_path()
    current, raw = json_state.load_raw(path, Settings, Settings)
    values = {**msgspec.to_builtins(getattr(current, section)), **msgspec.to_builtins(changes)}
    try:
        value = msgspec.convert(values, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"the {section} settings cannot take that: {exc}") from None
    data: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    stored = data.get(section)
    data[section] = {**(stored if isinstance(stored, dict) else {}), **msgspec.to_builtins(value)}
    json_state.write(path, data)
    return value


def load_donation() -> Donation:
    return load_settings().donation


def update_donation(**changes: object) -> Donation:
    return _update("donation", Donation, changes)


def load_api() -> ApiSettings:
    return load_settings().api


def update_api(**changes: object) -> ApiSettings:
    return _update("api", ApiSettings, changes)


def load_pooling() -> Pooling:
    return load_settings().pooling


def update_pooling(**changes: object) -> Pooling:
    return _update("pooling", Pooling, changes)


def load_speculation() -> Speculation:
    return load_settings().speculation


def update_speculation(**changes: object) -> Speculation:
    return _update("speculation", Speculation, changes)


def load_answering() -> Answering:
    return load_settings().answering


def update_answering(**changes: object) -> Answering:
    return _update("answering", Answering, changes)
