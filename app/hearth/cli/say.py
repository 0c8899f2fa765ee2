"""The command line's messages in the reader's language, from the same catalogs as the window's.

The language is the one the environment asks for (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``,
as gettext reads them), else the system's; Qt's compiled catalogs are read without starting Qt.
Messages are written ``translate("Cli", "... %1 ...")`` so that the translation tools find them.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

QM_DIR = Path(__file__).resolve().parent.parent / "translations"
SHIPPED = ("ru", "zh_CN", "ko")


def language(wanted: list[str]) -> str | None:
    """The shipped language that the first of ``wanted`` (like ``ru_RU.UTF-8`` or ``zh-Hans-CN``) names."""
    for tag in wanted:
        tag = tag.split(".")[0].replace("-", "_")
        if not tag or tag in ("C", "POSIX"):
            continue
        base = tag.split("_")[0].lower()
        if base == "zh":
            traditional = any(x in tag for x in ("Hant", "TW", "HK", "MO"))
            return None if traditional else "zh_CN"
        return base if base in SHIPPED else None
    return None


def _wanted() -> list[str] | None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.split(":")
    return None


@cache
def _translator() -> Any:
    wanted = _wanted()
    if wanted is None:
        from PySide6.QtCore import QLocale

        wanted = list(QLocale.system().uiLanguages())
    code = language(wanted)
    if code is None:
        return None
    from PySide6.QtCore import QTranslator

    translator = QTranslator()
    return translator if translator.load(str(QM_DIR / f"hearth_{code}.qm")) else None


def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """``text`` in the reader's language; ``%n`` becomes ``n`` (and picks the plural form)."""
    translator = _translator()
    said = (translator.translate(context, text, disambiguation, n) if translator else "") or text
    return said.replace("%n", str(n)) if n >= 0 else said
