"""Languages: the choice is kept in the settings and applied when the window starts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from hearth.service import preferences as prefs

LANGUAGES = {"en": "English", "ru": "Русский", "zh_CN": "简体中文", "ko": "한국어"}
# Compiled from the .ts sources in the repository's i18n/ folder by scripts/translations.py.
QM_DIR = Path(__file__).resolve().parent.parent / "translations"
_installed: list[QTranslator] = []
_active = ["en"]


def current_language() -> str:
    chosen = prefs.read().get("language")
    if chosen in LANGUAGES:
        return chosen
    system = QLocale.system().name()
    return (
        system if system in LANGUAGES else system.split("_")[0] if system.split("_")[0] in LANGUAGES else "en"
    )


def set_language(code: str) -> None:
    if code not in LANGUAGES:
        raise ValueError(f"no language {code!r}")
    prefs.write("language", code)


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
    _active[0] = code
    return code


def active() -> str:
    """The language the window speaks now."""
    return _active[0]
