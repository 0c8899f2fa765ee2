"""The chat pane on a real engine: streaming, Stop within a second, history across a restart."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QTextFormat

from harness.windows import ask_greedily, close_window, open_window, run, until
from hearth.models import synthetic
from hearth.service.chat import MessageStatus
from hearth.ui.chat_page import code_block_at
from hearth.ui.view import transcript
from hearth.ui.view.chat import Entry, Role


@pytest.fixture(scope="module")
def talkative_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.ensure_model(tmp_path_factory.mktemp("talkative"), synthetic.TALKATIVE, seed=0)


async def _load(window, path: Path) -> None:
    window.models.import_file(str(path))
    page = window.planner
    await until(lambda: page.profile is not None and page.profile.path == str(path), what="model chosen")
    assert page.load_button.isEnabled()
    page.load_button.click()
    # The page hears of the load when the load's task has finished, a moment after the service.
    await until(lambda: page.status.text().startswith("Loaded on"), timeout=60, what="model loaded")
    assert window.services.serving.loaded() is not None
    assert page.status.text().startswith("Loaded on alpha")
    await until(lambda: window.chat.send_button.isEnabled(), what="the chat ready")


def test_stream_stop_and_history_after_restart(qtbot, loop, talkative_model: Path) -> None:
    async def first_run() -> tuple[str, str]:
        services, window = await open_window()
        try:
            await _load(window, talkative_model)
            chat = window.chat
            assert window.stack.currentWidget() is chat  # Load leads to the chat
            chat.temperature.setValue(0.0)
            chat.max_tokens.setValue(8000)
            chat.composer.setPlainText("Tell me everything")
            chat.send_button.click()
            assert chat.send_button.text() == "Stop"
            await until(lambda: len(chat.conversation.messages[-1].text) > 20, what="a streaming answer")
            await until(lambda: "Tell me everything" in chat.view.toPlainText(), what="the question shown")
            pressed = time.monotonic()
            chat.send_button.click()
            await until(lambda: chat.turn is None, timeout=5, what="the answer to stop")
            stopped_after = time.monotonic() - pressed
            assert stopped_after < 1.0, f"Stop took {stopped_after:.2f} s"
            assert chat.send_button.text() == "Send"
            answer = chat.conversation.messages[-1]
            shown = answer.text
            assert answer.role is Role.ASSISTANT and answer.status is MessageStatus.STOPPED and shown
            assert chat.last_done is not None and chat.last_done.reason == "cancelled"
            assert "tokens/s" in chat.stats.text() and "alpha" in chat.stats.text()
            await until(lambda: chat.list.count() == 1, what="the conversation listed")
            return chat.list.item(0).text(), shown
        finally:
            await close_window(services, window)

    title, shown = run(loop, first_run(), timeout=120)
    assert title == "Tell me everything"

    async def second_run() -> None:
        services, window = await open_window()
        try:
            chat = window.chat
            await until(lambda: chat.list.count() == 1, what="history after the restart")
            chat.open_conversation(int(chat.list.item(0).data(0x0100)))
            await until(lambda: len(chat.conversation.messages) == 2, what="the conversation opened")
            question, answer = chat.conversation.messages
            assert (question.role, question.text) == (Role.USER, "Tell me everything")
            # Everything shown was stored; pieces queued while Stop landed may follow it.
            assert answer.role is Role.ASSISTANT and answer.text.startswith(shown)
            assert answer.status is MessageStatus.STOPPED and "(stopped)" in chat.view.toPlainText()
            assert not chat.send_button.isEnabled()  # no model loaded in this run
        finally:
            await close_window(services, window)

    run(loop, second_run(), timeout=60)


def test_regenerate_rename_export_delete(qtbot, loop, tiny_model: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            await _load(window, tiny_model)
            chat = window.chat
            await ask_greedily(chat, "hello", 16, what="the first answer")
            first = chat.conversation.messages[-1].text
            chat.regenerate()
            await until(lambda: chat.turn is None, what="the second answer")
            assert [m.role for m in chat.conversation.messages] == [Role.USER, Role.ASSISTANT]
            # Greedy: the same answer again, replacing the first.
            assert chat.conversation.messages[-1].text == first
            assert chat.session is not None and chat.session.conversation_id is not None
            conv: int = chat.session.conversation_id

            async def stored() -> list[tuple[str, str]]:
                found = await services.conversations.read(conv)
                return [(m.role, m.content) for m in found[1]] if found else []

            assert [role for role, _ in await stored()] == ["user", "assistant"]

            assert chat.context_meter.value() > 0 and "%" in chat.context_meter.text()
            chat.copy_button.click()
            assert QGuiApplication.clipboard().text() == first

            # Edit the question: it goes back to the box, the exchange leaves the screen and the history.
            chat.edit_button.click()
            await until(lambda: chat.composer.toPlainText() == "hello", what="the question back in the box")
            assert chat.conversation.messages == [] and await stored() == []
            chat.composer.setPlainText("hello again")
            chat.send_button.click()
            await until(
                lambda: chat.turn is None and len(chat.conversation.messages) == 2, what="the edited question"
            )
            assert (await stored())[0] == ("user", "hello again")

            chat.rename(conv, "hello", "Greetings")
            await until(lambda: chat.list.count() == 1 and chat.list.item(0).text() == "Greetings")
            md, js = tmp_path / "c.md", tmp_path / "c.json"
            chat.export(conv, "md", str(md))
            chat.export(conv, "json", str(js))
            await until(lambda: md.exists() and js.exists(), what="exports")
            assert md.read_text().startswith("# Greetings") and "hello again" in md.read_text()
            assert '"role": "assistant"' in js.read_text()
            chat.delete(conv)
            await until(lambda: chat.list.count() == 0, what="the conversation deleted")
            assert await services.conversations.listed() == []
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=120)


def test_a_base_model_says_it_continues_text(qtbot, loop, tmp_path: Path) -> None:
    base = synthetic.write_model(
        tmp_path / "base.gguf", synthetic.variant(synthetic.TINY, chat_template=False, name="base")
    )

    async def scenario() -> tuple[str, str, str]:
        services, window = await open_window()
        try:
            await _load(window, base)
            await until(lambda: window.models.list.count() == 1, what="the model listed")
            window.chat.send("hi")
            await until(lambda: window.chat.send_button.text() == "Send", timeout=30, what="the answer")
            return window.models.list.item(0).text(), window.chat.model_label.text(), window.chat.stats.text()
        finally:
            await close_window(services, window)

    listed, header, stats = run(loop, scenario())
    assert "continues text; not tuned for chat" in listed
    assert "continues text; not tuned for chat" in header
    assert "tokens/s" in stats  # it still answers, formatted by its turn markers


def test_a_mixture_of_experts_says_so_on_its_card(qtbot, loop, tmp_path: Path) -> None:
    spec = synthetic.variant(synthetic.TINY, name="experts", n_expert=4, n_expert_used=2)
    path = synthetic.write_model(tmp_path / "experts.gguf", spec)

    async def scenario() -> str:
        services, window = await open_window()
        try:
            window.models.import_file(str(path))
            await until(lambda: window.models.list.count() == 1, what="the model listed")
            window.models.list.setCurrentRow(0)
            return window.models.card.text()
        finally:
            await close_window(services, window)

    card = run(loop, scenario())
    assert "<b>Experts</b>: 4 a layer, 2 for each token" in card


def test_a_code_block_is_copied_whole(qtbot, loop) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            chat = window.chat
            chat.conversation.messages = [
                Entry(Role.USER, "code?"),
                Entry(
                    Role.ASSISTANT, "Here:\n\n```python\nprint(1)\nx = 2\n```\n\nDone.", MessageStatus.STOPPED
                ),
            ]
            chat.render_messages()
            assert "(stopped)" in chat.view.toPlainText()
            inside = chat.view.document().find("x = 2")
            assert code_block_at(inside) == "print(1)\nx = 2"
            assert code_block_at(chat.view.document().find("Done")) == ""
        finally:
            await close_window(services, window)

    run(loop, scenario())


# Each piece, and a text it brings to the screen once it is drawn.
STREAMED = [
    ("Here is a function:\n\n", "Here is a function:"),
    ("```python\ndef add(a, b):\n", "def add(a, b):"),
    ("    return a + b\n", "return a + b"),
    ("```\n\n| x | y |\n|---|---|\n", "x"),
    ("| 1 | 2 |\n\nThat is all.", "That is all."),
]
STREAMED_CODE = "def add(a, b):\n    return a + b"


def test_a_streamed_code_block_is_framed_highlighted_and_copied_exactly(qtbot, loop) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            chat = window.chat
            await until(lambda: chat.list.width() > 0, what="the page laid out")
            window_size, list_width = window.size(), chat.list.width()
            chat.conversation.messages = [Entry(Role.USER, "a function and a table?")]
            chat.conversation.regenerating()  # an answer begins, streamed piece by piece below
            for piece, shown in STREAMED:
                chat._piece(piece)
                await until(lambda: shown in chat.view.toPlainText(), what=f"{shown!r} shown")  # noqa: B023
                assert window.size() == window_size, "the window changed size while streaming"
                assert chat.list.width() == list_width
            chat.conversation.stopped()
            chat.render_messages()
            assert chat.code_blocks == [STREAMED_CODE]
            document = chat.view.document()
            inside = document.find("return a + b")
            assert not inside.isNull()
            assert inside.currentTable() is not None  # framed
            assert code_block_at(inside) == STREAMED_CODE
            # Highlighted: the keyword has a colour of its own, unlike the plain text of the answer.
            keyword = document.find("def")
            plain_words = document.find("That is all")
            keyword_color = keyword.charFormat().foreground().color().name()
            assert keyword.charFormat().hasProperty(QTextFormat.Property.ForegroundBrush)
            assert keyword_color != plain_words.charFormat().foreground().color().name()
            html = chat.view.toHtml()
            assert "python" in chat.view.toPlainText()  # the block's language label
            # The table is a table (its cells apart), not pipes.
            cell = document.find("1")
            while not cell.isNull() and cell.currentTable() is None:
                cell = document.find("1", cell)
            assert "| 1 |" not in chat.view.toPlainText()
            href = f"{transcript.COPY_SCHEME}:0"
            assert f'href="{href}"' in html
            QGuiApplication.clipboard().setText("something else")
            chat.view.anchorClicked.emit(QUrl(href))
            assert QGuiApplication.clipboard().text() == STREAMED_CODE
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_the_conversation_list_keeps_its_width(qtbot, loop, tiny_model: Path) -> None:
    async def first_run() -> int:
        services, window = await open_window()
        try:
            await _load(window, tiny_model)
            chat = window.chat
            chat.splitter.setSizes([300, 700])
            await until(lambda: chat.list.width() > 0, what="the page laid out")
            window_size, list_width = window.size(), chat.list.width()
            for n in range(3):
                await ask_greedily(chat, f"question {n} " + "long words " * 30, 24, what=f"answer {n}")
                assert chat.list.width() == list_width, f"the list changed width after answer {n}"
                assert window.size() == window_size, f"the window changed size after answer {n}"
            chat.save_split()
            return chat.splitter.sizes()[0]
        finally:
            await close_window(services, window)

    kept = run(loop, first_run(), timeout=180)
    assert kept != 240  # the user's width, not the default

    async def second_run() -> int:
        services, window = await open_window()
        try:
            window.nav.setCurrentRow(2)
            await until(lambda: window.chat.list.width() > 0, what="the page laid out")
            return window.chat.splitter.sizes()[0]
        finally:
            await close_window(services, window)

    assert run(loop, second_run()) == kept
