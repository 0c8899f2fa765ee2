"""The window's own preferences (language, theme, the first-run guide), kept in ``ui.json`` in the
configuration folder."""

from __future__ import annotations

import json
from pathlib import Path

from hearth.store import paths


def _file() -> Path:
    return paths.config_dir() / "ui.json"


def read() -> dict[str, str]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def write(key: str, value: str) -> None:
    data = read()
    data[key] = value
    _file().write_text(json.dumps(data), encoding="utf-8")
