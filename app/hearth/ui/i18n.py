"""Languages: the choice is kept in the settings and applied when the window starts."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from hearth.store import paths

LANGUAGES = {"en": "English", "ru": "Русский", "zh_CN": "简体中文", "ko": "한국어"}
# Compiled from the .ts sources in the repository's i18n/ folder by scripts/translations.py.
QM_DIR = Path(__file__).resolve().parent / "translations"
_installed: list[QTranslator] = []


def _settings() -> Path:
    return paths.config_dir() / "ui.json"


def _read() -> dict[str, str]:
    try:
        data = json.loads(_settings().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def current_language() -> str:
    chosen = _read().get("language")
    if chosen in LANGUAGES:
        return chosen
    system = QLocale.system().name()
    return (
        system if system in LANGUAGES else system.split("_")[0] if system.split("_")[0] in LANGUAGES else "en"
    )


def set_language(code: str) -> None:
    if code not in LANGUAGES:
        raise ValueError(f"no language {code!r}")
    data = _read()
    data["language"] = code
    _settings().write_text(json.dumps(data), encoding="utf-8")


def install(app: QCoreApplication, code: str | None = None) -> str:
    """Install the translation for ``code`` (default: the chosen one); returns the language in use."""
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    code = code or current_language()
    if code != "en":
        translator = QTranslator(app)
        if translator.load(str(QM_DIR / f"hearth_{code}.qm")):
            app.installTranslator(translator)
            _installed.append(translator)
    return code
