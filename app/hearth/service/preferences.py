"""The window's own preferences (language, theme, the first-run guide), kept in ``ui.json`` in the
configuration folder."""

from __future__ import annotations

from pathlib import Path

from hearth.store import json_state, paths


def _file() -> Path:
    return paths.config_dir() / "ui.json"


def _stored() -> dict[str, object]:
    # Any JSON values: a newer version may keep more than strings here, and writing keeps them.
    return json_state.load(_file(), dict[str, object], dict)


def read() -> dict[str, str]:
    return {k: v for k, v in _stored().items() if isinstance(v, str)}


def write(key: str, value: str) -> None:
    json_state.write(_file(), {**_stored(), key: value})
