"""The command line's messages in the reader's language, from the same translations as the window's.

The language is the one the environment asks for (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``,
as gettext reads them); with none set, English. Messages are written ``translate("Cli", "… %1 …")`` so
that the translation tools find them; ``scripts/translations.py`` writes the "Cli" part of each
language's catalog as ``hearth/translations/cli_<lang>.json``, which this reads without Qt.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
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


def _wanted() -> list[str]:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.split(":")
    return []


def plural_form(code: str, n: int) -> int:
    """Which of a message's plural forms ``n`` takes, as Qt's numerus rules number them."""
    if code == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return 0
        return 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    return 0


@cache
def _catalog() -> tuple[str, dict[str, str | list[str]]]:
    code = language(_wanted())
    if code is None:
        return "en", {}
    try:
        data = json.loads((CATALOGS / f"cli_{code}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "en", {}
    return code, data if isinstance(data, dict) else {}


def translate(context: str, text: str, n: int = -1) -> str:
    """``text`` in the reader's language; ``%n`` becomes ``n`` (and picks the plural form)."""
    code, messages = _catalog() if context == "Cli" else ("en", {})
    said = messages.get(text) or text
    if isinstance(said, list):
        said = said[min(plural_form(code, n), len(said) - 1)] if said else text
    return said.replace("%n", str(n)) if n >= 0 else said
