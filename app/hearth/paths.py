"""Where Hearth keeps its state: one directory, chosen by platformdirs, overridable with HEARTH_HOME.

Several nodes on one machine (and every test) get their own state by pointing HEARTH_HOME elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "HEARTH_HOME"


def state_dir() -> Path:
    """The root of all state; created on first use."""
    override = os.environ.get(ENV_HOME)
    root = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("Hearth", "Hearth"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _sub(name: str) -> Path:
    path = state_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    return _sub("config")


def models_dir() -> Path:
    return _sub("models")


def cache_dir() -> Path:
    return _sub("cache")


def conversations_db() -> Path:
    return state_dir() / "conversations.sqlite3"
