"""Choosing a language in Settings retranslates the whole window at once, keeping what the user was doing."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTabWidget,
    QWidget,
)

from harness.windows import close_window, open_window, run, until
from hearth.ui import i18n

TS = Path(__file__).resolve().parents[2] / "i18n" / "hearth_ru.ts"


def english_phrases() -> set[str]:
    """Fixed pieces of every English source that Russian says differently (placeholders cut out)."""
    phrases = set()
    for message in ET.parse(TS).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        forms = [f.text or "" for f in translation.iter("numerusform")] if translation is not None else []
        said = forms or [translation.text or ""] if translation is not None else []
        if source in said:
            continue  # a name or a unit, the same in both
        for piece in re.split(r"%\d|%n|<[^>]+>", source):
            piece = piece.strip(" .,:;…()·—")
            if len(piece) >= 5 and re.search(r"[a-z]{3}", piece):
                phrases.add(piece)
    return phrases


def shown_texts(root: QWidget) -> list[str]:
    """Every text a person can see in ``root`` as it is now."""
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisibleTo(root):
            continue
        if isinstance(w, QLabel | QAbstractButton | QGroupBox):
            out.append(w.title() if isinstance(w, QGroupBox) else w.text())
        if isinstance(w, QLineEdit | QPlainTextEdit):
            out.append(w.placeholderText())
        if isinstance(w, QTabWidget):
            out += [w.tabText(i) for i in range(w.count())]
        if isinstance(w, QListWidget):
            out += [w.item(i).text() for i in range(w.count())]
        if isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        out.append(w.toolTip())
    return [t for t in out if t]


def test_switching_to_russian_retranslates_every_page_at_once(qtbot, qapp, loop, tiny_model: Path) -> None:
    english = english_phrases()
    assert len(english) > 150

    async def scenario() -> None:
        services, window = await open_window()
        try:
            window.models.import_file(str(tiny_model))
            await until(lambda: window.planner.profile is not None, what="a model in the planner")
            window.planner.ctx_slider.setValue(0)  # 256 tokens: a short answer fills some of it
            window.planner.load()
            await until(lambda: window.chat.send_button.isEnabled(), timeout=60, what="the model loaded")
            window.chat.max_tokens.setValue(4)
            window.chat.send("hello")
            await until(lambda: window.chat.turn is None and window.chat.last_done, what="an answer")
            meter = window.chat.context_meter.value()
            assert meter > 0
            window.nav.setCurrentRow(2)
            window.chat.composer.setPlainText("a question half typed")
            window.nav.setCurrentRow(4)
            before = window.planner.draft
            box = window.settings.language
            box.setCurrentIndex(box.findData("ru"))
            await until(lambda: window.nav.item(0).text() == "Устройства", what="the window in Russian")
            assert [window.nav.item(i).text() for i in range(5)] == [
                "Устройства",
                "Планировщик",
                "Чат",
                "Модели",
                "Настройки",
            ]
            # Where the user was, and what they had typed, are kept.
            assert window.nav.currentRow() == 4 and window.stack.currentWidget() is window.settings
            assert window.settings.language.currentData() == "ru"
            assert window.chat.composer.toPlainText() == "a question half typed"
            assert "токенов/с" in window.chat.stats.text() and len(window.chat.conversation.messages) == 2
            await until(lambda: window.planner.draft is not None, what="the plan shown again")
            assert window.planner.draft is not None and before is not None
            assert window.planner.draft.counts == before.counts
            # Numbers as Russian writes them: a decimal comma.
            assert re.search(r"\d,\d", window.planner.speed.text()), window.planner.speed.text()

            left = []
            for row in range(window.nav.count()):
                window.nav.setCurrentRow(row)
                page = window.stack.currentWidget()
                assert page is not None
                tabs = page.findChildren(QTabWidget)
                for index in range(tabs[0].count()) if tabs else [None]:
                    if index is not None:
                        tabs[0].setCurrentIndex(index)
                    await until(lambda: True)
                    for text in shown_texts(window):
                        left += [(row, index, p, text) for p in english if p in text]
            assert not left, left[:10]

            # And back: English again, without a restart.
            window.nav.setCurrentRow(4)
            box = window.settings.language
            box.setCurrentIndex(box.findData("en"))
            await until(lambda: window.nav.item(0).text() == "Devices", what="the window in English")
            assert window.chat.composer.toPlainText() == "a question half typed"
            # Kept through a second rebuild too: the answer's stats and the context meter.
            assert "tokens/s" in window.chat.stats.text() and window.chat.context_meter.value() == meter
            assert window.chat.last_done is not None
        finally:
            await close_window(services, window)

    assert i18n.install(qapp) == "en"
    try:
        run(loop, scenario(), timeout=90)
        assert i18n.current_language() == "en"
    finally:
        i18n.install(qapp, "en")


def test_the_chosen_language_is_used_at_the_next_start(qtbot, qapp, loop) -> None:
    i18n.set_language("ko")
    try:
        assert i18n.install(qapp) == "ko"  # what the app does when it starts

        async def first_label() -> str:
            services, window = await open_window()
            try:
                return window.nav.item(0).text()
            finally:
                await close_window(services, window)

        assert run(loop, first_label()) == "기기"
    finally:
        i18n.set_language("en")
        i18n.install(qapp, "en")
