"""Names from outside are shown as text: a device, a model file, its metadata and a hub file called
``<b>x</b><img src=x>`` appear with their angle brackets, never as bold text and an image."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import Qt as QtGui
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from harness.nodes import NodeProcess
from harness.windows import close_window, open_window, run, until
from hearth.core.names import model_display_name
from hearth.models import synthetic
from hearth.service.chat import MessageStatus
from hearth.ui.pairing_dialogs import PairDialog
from hearth.ui.view.chat import Entry, Role

HOSTILE = "<b>x</b><img src=x>"


def _drawn(text: str, fmt: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    """What Qt draws for ``text``, as text: rendered as rich text wherever Qt would take it for that
    (a label's AutoText and every tooltip guess it from the text itself)."""
    rich = fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text))
    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    assert "<img" not in document.toHtml() or HOSTILE in document.toPlainText()
    return document.toPlainText()


def shown(label: QLabel) -> str:
    return _drawn(label.text(), label.textFormat())


def test_a_model_and_a_hub_file_named_as_markup_are_shown_as_text(
    qtbot, loop, fake_hub, tiny_model: Path, tmp_path: Path
) -> None:
    model = synthetic.write_model(
        tmp_path / f"{HOSTILE}.gguf", synthetic.variant(synthetic.TINY, name=HOSTILE)
    )
    fake_hub.add("test/markup-GGUF", {f"{HOSTILE}-Q8_0.gguf": tiny_model.read_bytes()})

    async def scenario() -> None:
        services, window = await open_window()
        try:
            page = window.models
            page.import_file(str(model))
            await until(lambda: "Imported" in page.status.text(), what="the import")
            # Named by its file (here the part of HOSTILE after its slash, a folder before it), as text.
            assert model_display_name(str(model), HOSTILE) in shown(page.status)
            await until(lambda: page.list.count() == 1, what="the library lists it")
            page.list.setCurrentRow(0)
            assert model_display_name(str(model), HOSTILE) in page.list.item(0).text()  # a list item is plain
            assert HOSTILE in _drawn(page.list.item(0).toolTip())  # its tooltip, the path, is not
            card = shown(page.card)
            assert f"hearth-synthetic-{HOSTILE}" not in card  # the card shows facts, not the name…
            assert f"{HOSTILE}.gguf" in card  # …and the file's path, as it is
            assert page.card.textFormat() != Qt.TextFormat.PlainText  # rich on purpose: bold headings

            planner = window.planner
            await until(lambda: planner.profile is not None, what="the Planner's model")
            assert model_display_name(str(model), HOSTILE) in shown(planner.card)

            # The hub's own file names, in the search results and the downloads.
            page.tabs.setCurrentIndex(2)
            page.search("markup")
            await until(lambda: page.results.topLevelItemCount() == 1, what="the hub's file listed")
            row = page.results.topLevelItem(0)
            assert row is not None
            assert HOSTILE in row.text(0) and HOSTILE in _drawn(row.toolTip(0))
            assert HOSTILE in shown(page.status) or "found" in page.status.text()
            page.results.setCurrentItem(row)
            page.result_download.click()
            key = f"test/markup-GGUF/{HOSTILE}-Q8_0.gguf"
            await until(lambda: key in page.downloads.rows, what="the download listed")
            line = page.downloads.rows[key]
            assert HOSTILE in shown(line.title)
            await until(lambda: "Done" in line.detail.text(), what="the download done")
            assert HOSTILE in shown(line.detail)

            # An answer, and a failure quoting a device's name, in the chat: tags and links as text.
            chat = window.chat
            chat.conversation.messages = [
                Entry(Role.USER, f"say {HOSTILE}"),
                Entry(
                    Role.ASSISTANT,
                    f"**bold** and {HOSTILE}",
                    MessageStatus.FAILED,
                    f"[link](http://x) {HOSTILE} left",
                ),
            ]
            chat.render_messages()
            text = chat.view.toPlainText()
            assert f"bold and {HOSTILE}" in text  # Markdown still renders, raw HTML does not
            assert f"[link](http://x) {HOSTILE} left" in text
            assert "<img" not in chat.view.toHtml().replace("&lt;img", "")
            assert not chat.view.document().toHtml().count("href=")
            # A link the model wrote in Markdown is never followed inside the view (file:// would load a
            # local file there).
            chat.conversation.messages = [Entry(Role.ASSISTANT, "[notes](file:///etc/passwd)")]
            chat.render_messages()
            assert not chat.view.openLinks() and not chat.view.openExternalLinks()
            chat.view.anchorClicked.emit(QUrl("file:///etc/passwd"))
            assert "root:" not in chat.view.toPlainText() and chat.view.source().isEmpty()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=90)


def test_a_device_named_as_markup_is_shown_as_text(qtbot, loop, tmp_path: Path, tiny_model: Path) -> None:
    peer = NodeProcess(
        tmp_path / "peer", HOSTILE, "127.0.0.2", extra=["--donate", "--max-memory", "2G", "--threads", "1"]
    ).start()

    async def scenario() -> None:
        services, window = await open_window()
        try:
            devices = window.devices
            devices.add_by_address(peer.address)
            await until(lambda: devices.status.text().startswith("Found"), what="the device found")
            assert shown(devices.status) == f"Found {HOSTILE}"
            await until(lambda: len(devices.cards) == 2, what="its card")
            card = next(c for c in devices.cards.values() if c.name == HOSTILE)
            assert shown(card.title).startswith(HOSTILE)

            # Pairing as a person does: the dialog names the device while it waits for the code.
            mark = len(peer.lines)
            dialog = PairDialog(services, peer.address, card.name, window)
            dialog.open()
            assert shown(dialog.message) == f"Asking {HOSTILE}… A code appears on that device."
            await until(lambda: dialog.code.isEnabled(), what="the code field")
            assert shown(dialog.message) == f"Type the code shown on {HOSTILE}."
            dialog.code.setText(await asyncio.to_thread(peer.code, mark))
            dialog.ok.click()
            await until(lambda: dialog.result() == dialog.DialogCode.Accepted, what="pairing to finish")
            await until(lambda: len(services.plans.devices()) == 2, what=f"{HOSTILE} donating")
            devices.refresh()
            assert "Paired" in shown(card.state)

            window.models.import_file(str(tiny_model))
            planner = window.planner
            await until(lambda: len(planner.columns) == 2, what="a column for each device")
            titles = [shown(c.title) for c in planner.columns]
            assert f"2. {HOSTILE}" in titles, titles
        finally:
            await close_window(services, window)
            peer.stop()

    run(loop, scenario(), timeout=90)
