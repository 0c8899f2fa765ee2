"""Refresh the translation sources from the window's code and compile them for the app.

    uv run python scripts/translations.py [--check]

``pyside6-lupdate`` collects every ``tr()`` string of ``app/hearth/ui`` and every ``translate("Cli", …)``
of ``app/hearth/cli`` into ``i18n/hearth_<lang>.ts`` (keeping what translators wrote);
``pyside6-lrelease`` compiles each into ``app/hearth/translations/hearth_<lang>.qm`` for the window, and
the command line's messages go to ``app/hearth/translations/cli_<lang>.json`` (read without Qt).
``--check`` only reports whether the sources are up to date with the code and every entry is
translated, with nothing obsolete left, and the compiled catalogs current (exit 1 if not, naming
what is wrong).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "app" / "hearth" / "ui"
TS_DIR = ROOT / "i18n"
CLI = ROOT / "app" / "hearth" / "cli"
QM_DIR = ROOT / "app" / "hearth" / "translations"
LANGUAGES = ("ru", "zh_CN", "ko")


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found; it comes with PySide6")
    return found


def sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for folder in (UI, CLI) for p in folder.glob("*.py"))


def strings(ts: Path) -> set[tuple[str, str]]:
    """(context, source text) of every live message in a .ts file."""
    out = set()
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            kind = message.find("translation")
            if kind is None or kind.get("type") not in ("obsolete", "vanished"):
                out.add((name, message.findtext("source", "")))
    return out


def cli_messages(ts: Path) -> dict[str, str | list[str]]:
    """The command line's part of a catalog (context "Cli"), for reading without Qt: source text to
    translation, or to its plural forms."""
    out: dict[str, str | list[str]] = {}
    for context in ET.parse(ts).getroot().iter("context"):
        if context.findtext("name", "") != "Cli":
            continue
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is None or translation.get("type"):
                continue
            forms = [f.text or "" for f in translation.iter("numerusform")]
            out[message.findtext("source", "")] = forms if forms else translation.text or ""
    return out


def problems(ts: Path) -> list[str]:
    """Entries of a .ts file that are untranslated (unfinished, or a plural form left empty) or
    obsolete."""
    out = []
    for message in ET.parse(ts).getroot().iter("message"):
        kind = message.find("translation")
        source = message.findtext("source", "")
        if kind is None:
            continue
        if kind.get("type") in ("obsolete", "vanished"):
            out.append(f"obsolete: {source!r}")
        elif kind.get("type") == "unfinished":
            out.append(f"unfinished: {source!r}")
        elif message.get("numerus") == "yes":
            if not [f for f in kind.iter("numerusform") if (f.text or "").strip()]:
                out.append(f"unfinished plural: {source!r}")
        elif not (kind.text or "").strip():
            out.append(f"empty: {source!r}")
    return out


def update(ts: Path, language: str) -> None:
    subprocess.run(
        [tool("pyside6-lupdate"), *sources(), "-no-obsolete", "-target-language", language, "-ts", str(ts)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the .ts files are current")
    args = parser.parse_args()
    if args.check:
        stale = []
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.ts"
            update(fresh, "en")
            want = strings(fresh)
            for language in LANGUAGES:
                ts = TS_DIR / f"hearth_{language}.ts"
                if not ts.exists() or strings(ts) != want:
                    stale.append(f"{ts.name}: out of date with the code (run this script without --check)")
                elif found := problems(ts):
                    stale += [f"{ts.name}: {p}" for p in found]
                cli = QM_DIR / f"cli_{language}.json"
                if not cli.exists() or json.loads(cli.read_text(encoding="utf-8")) != cli_messages(ts):
                    stale.append(f"{cli.name}: out of date with {ts.name} (run this script without --check)")
        print("\n".join(stale) if stale else "translation sources are up to date and complete")
        return 1 if stale else 0
    QM_DIR.mkdir(exist_ok=True)
    for language in LANGUAGES:
        ts = TS_DIR / f"hearth_{language}.ts"
        update(ts, language)
        qm = QM_DIR / f"hearth_{language}.qm"
        subprocess.run([tool("pyside6-lrelease"), str(ts), "-qm", str(qm)], check=True, capture_output=True)
        cli = QM_DIR / f"cli_{language}.json"
        cli.write_text(json.dumps(cli_messages(ts), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{ts.relative_to(ROOT)} -> {qm.relative_to(ROOT)}, {cli.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
