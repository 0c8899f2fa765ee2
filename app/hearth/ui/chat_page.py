"""The chat pane: conversations from the store, streaming answers rendered as Markdown."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.engine import messages as m
from hearth.engine.messages import Sampling
from hearth.service.app import Services
from hearth.service.chat import ChatSession
from hearth.service.turns import Who
from hearth.store import export
from hearth.ui.memory_bar import number
from hearth.ui.plain import plain_label
from hearth.ui.tasks import describe, spawn

RENDER_MS = 50
_FEATURE = QTextDocument.MarkdownFeature
MARKDOWN = _FEATURE(_FEATURE.MarkdownDialectGitHub.value | _FEATURE.MarkdownNoHTML.value)
_MARKDOWN_PUNCTUATION = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|~&"})


def markdown_text(text: str) -> str:
    """``text`` inside Markdown as it is: every character that could start Markdown escaped (an error
    message is not to become a link or a heading)."""
    return " ".join(text.translate(_MARKDOWN_PUNCTUATION).split())


def code_block_at(cursor: QTextCursor) -> str:
    """The text of the fenced code block under ``cursor`` (Markdown rendered by Qt), or ""."""
    block = cursor.block()

    def is_code(b: QTextBlock) -> bool:
        return b.isValid() and b.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence)

    if not is_code(block):
        return ""
    first = block
    while is_code(first.previous()):
        first = first.previous()
    lines, b = [], first
    while is_code(b):
        lines.append(b.text())
        b = b.next()
    return "\n".join(lines)


def _open_web_link(url: QUrl) -> None:
    if url.scheme() in ("http", "https"):
        QDesktopServices.openUrl(url)


@dataclass
class ChatState:
    """What the chat pane holds that a copy of it (in another language) takes over."""

    session: ChatSession | None
    transcript: list[list[str]]
    system: str
    draft: str
    temperature: float
    max_tokens: int
    last_done: m.Done | None


class ChatPage(QWidget):
    replan_requested = Signal()  # the user wants the Planner's proposal for the devices there are now

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.session: ChatSession | None = None
        self.transcript: list[list[str]] = []  # [role, text, note]
        self.turn: asyncio.Task[Any] | None = None
        self.last_done: m.Done | None = None

        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Conversations"))
        self.list.itemClicked.connect(self._open_item)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        new = QPushButton(self.tr("New chat"))
        new.clicked.connect(self.new_chat)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(new)
        left_layout.addWidget(self.list, 1)

        self.model_label = plain_label()  # the model's name, on the devices' names
        # Devices that came or went: what it means for the loaded model, with the button to act on it.
        self.notice = plain_label()  # devices' names, errors
        self.notice.setWordWrap(True)
        self.notice.setObjectName("planNotice")
        self.notice_button = QPushButton(self.tr("Open the Planner"))
        self.notice_button.clicked.connect(self.replan_requested.emit)
        notice_row = QHBoxLayout()
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.notice_button)
        self.notice_box = QWidget()
        self.notice_box.setLayout(notice_row)
        self.notice_box.hide()
        self.system = QLineEdit()
        self.system.setPlaceholderText(self.tr("System prompt (optional)"))
        self.system.setAccessibleName(self.tr("System prompt"))
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(0.8)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 1_000_000)
        self.max_tokens.setValue(2048)
        self.view = QTextBrowser()
        # An answer's links are the model's words: never followed inside the view (a file:// link would
        # load a local file into it); web links open in the browser when clicked.
        self.view.setOpenLinks(False)
        self.view.setOpenExternalLinks(False)
        self.view.anchorClicked.connect(_open_web_link)
        self.view.setAccessibleName(self.tr("Conversation"))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._view_menu)
        self.stats = plain_label()
        self.activity = plain_label()  # when another app is being answered, or this chat waits for its turn
        self.activity.setObjectName("modelActivity")
        self.activity.hide()
        self.composer = QPlainTextEdit()
        self.composer.setPlaceholderText(self.tr("Ask something… (Ctrl+Enter sends)"))
        self.composer.setFixedHeight(80)
        self.composer.setAccessibleName(self.tr("Message"))
        # Tab leaves the box (a chat message rarely needs a tab character): the keyboard reaches Send.
        self.composer.setTabChangesFocus(True)
        # The box takes Ctrl+Enter as a key of its own before any shortcut sees it, so it is caught here.
        self.composer.installEventFilter(self)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.clicked.connect(self._send_or_stop)
        self.regenerate_button = QPushButton(self.tr("Regenerate"))
        self.regenerate_button.clicked.connect(self.regenerate)
        self.edit_button = QPushButton(self.tr("Edit question"))
        self.edit_button.setToolTip(self.tr("Take back the last question and its answer to change it"))
        self.edit_button.clicked.connect(self.edit_last)
        self.copy_button = QPushButton(self.tr("Copy answer"))
        self.copy_button.clicked.connect(self.copy_answer)
        self.context_meter = QProgressBar()
        self.context_meter.setRange(0, 100)
        self.context_meter.setValue(0)
        self.context_meter.setFixedWidth(140)
        self.context_meter.setFormat(self.tr("context %p%"))
        self.context_meter.setAccessibleName(self.tr("Context used"))

        settings = QHBoxLayout()
        settings.addWidget(self.system, 1)
        for text, control in (
            (self.tr("Temperature"), self.temperature),
            (self.tr("Max tokens"), self.max_tokens),
        ):
            label = QLabel(text)
            label.setBuddy(control)
            control.setAccessibleName(text)
            settings.addWidget(label)
            settings.addWidget(control)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stats, 1)
        buttons.addWidget(self.context_meter)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.regenerate_button)
        buttons.addWidget(self.send_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.model_label)
        right_layout.addWidget(self.notice_box)
        right_layout.addLayout(settings)
        right_layout.addWidget(self.view, 1)
        right_layout.addWidget(self.activity)
        right_layout.addWidget(self.composer)
        right_layout.addLayout(buttons)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_MS)
        self._render_timer.timeout.connect(self.render_messages)
        self.model_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.composer and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._send_or_stop()
                return True
        return super().eventFilter(watched, event)

    def keep(self) -> ChatState:
        return ChatState(
            self.session,
            self.transcript,
            self.system.text(),
            self.composer.toPlainText(),
            self.temperature.value(),
            self.max_tokens.value(),
            self.last_done,
        )

    def restore(self, state: ChatState) -> None:
        self.session, self.transcript = state.session, state.transcript
        self.system.setText(state.system)
        self.composer.setPlainText(state.draft)
        self.temperature.setValue(state.temperature)
        self.max_tokens.setValue(state.max_tokens)
        self.last_done = state.last_done
        if state.last_done is not None:
            self._show_stats(state.last_done)
        self.render_messages()
        self._update_buttons()

    # --- conversations ---

    def reload_conversations(self) -> None:
        store = self.services.store
        if store is not None:
            spawn(self.services.on_disk(store.conversations), self._error, self._fill)

    def _fill(self, conversations: list[Any]) -> None:
        current = self.session.conversation_id if self.session else None
        self.list.clear()
        for c in conversations:
            item = QListWidgetItem(c.title)
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.list.addItem(item)
            if c.id == current:
                self.list.setCurrentItem(item)

    def new_chat(self) -> None:
        if self.turn is not None:
            return
        self.session = None
        self.transcript = []
        self.stats.setText("")
        self.list.clearSelection()
        self.render_messages()

    def _open_item(self, item: QListWidgetItem) -> None:
        if self.turn is None:
            self.open_conversation(int(item.data(Qt.ItemDataRole.UserRole)))

    def open_conversation(self, conversation_id: int) -> None:
        store = self.services.store
        assert store is not None

        def read() -> tuple[Any, list[Any]]:
            return store.conversation(conversation_id), store.messages(conversation_id)

        spawn(self.services.on_disk(read), self._error, self._opened)

    def _opened(self, found: tuple[Any, list[Any]]) -> None:
        conversation, messages = found
        if conversation is None:
            return
        self.session = self._new_session()
        self.session.resume(
            conversation.id, [m.ChatMessage(x.role, x.content) for x in messages], conversation.system_prompt
        )
        self.system.setText(conversation.system_prompt)
        self.transcript = [[x.role, x.content, "" if x.status == "done" else x.status] for x in messages]
        self.render_messages()

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conversation_id = int(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction(self.tr("Rename…"), lambda: self.rename(conversation_id, item.text()))
        menu.addAction(self.tr("Export as Markdown…"), lambda: self.export(conversation_id, "md"))
        menu.addAction(self.tr("Export as JSON…"), lambda: self.export(conversation_id, "json"))
        menu.addSeparator()
        menu.addAction(self.tr("Delete"), lambda: self.delete(conversation_id))
        menu.popup(self.list.mapToGlobal(pos))

    def rename(self, conversation_id: int, current: str, title: str | None = None) -> None:
        if title is None:
            title, ok = QInputDialog.getText(self, self.tr("Rename"), self.tr("Title"), text=current)
            if not ok:
                return
        title = title.strip() or current
        assert self.services.store is not None
        spawn(
            self.services.on_disk(self.services.store.rename, conversation_id, title),
            self._error,
            lambda _: self.reload_conversations(),
        )

    def delete(self, conversation_id: int) -> None:
        assert self.services.store is not None
        if self.session and self.session.conversation_id == conversation_id:
            self.new_chat()
        spawn(
            self.services.on_disk(self.services.store.delete, conversation_id),
            self._error,
            lambda _: self.reload_conversations(),
        )

    def export(self, conversation_id: int, kind: str, path: str | None = None) -> None:
        if path is None:
            pattern = self.tr("Markdown (*.md)") if kind == "md" else self.tr("JSON (*.json)")
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export conversation"), "", pattern)
            if not path:
                return
        store = self.services.store
        assert store is not None
        target = Path(path)

        def write() -> None:
            conversation = store.conversation(conversation_id)
            if conversation is None:
                raise ValueError("the conversation is gone")
            messages = store.messages(conversation_id)
            render = export.to_markdown if kind == "md" else export.to_json
            target.write_text(render(conversation, messages), encoding="utf-8")

        spawn(
            self.services.on_disk(write),
            self._error,
            lambda _: self.stats.setText(fill(self.tr("Exported to %1"), target)),
        )

    # --- turns ---

    def model_changed(self) -> None:
        model = self.services.model
        if model is None:
            self.model_label.setText("")  # the notice says what to do, with the button to do it
        else:
            name = model.profile.name or model.profile.path
            text = fill(self.tr("%1 on %2"), name, ", ".join(model.devices))
            if not model.profile.has_chat_template:
                # A base model: the chat still works, but the user should not expect an assistant.
                note = self.tr("continues text; not tuned for chat")
                text = f"{text} — {note}"
            self.model_label.setText(text)
        self.devices_changed()
        self._update_buttons()

    def devices_changed(self) -> None:
        """Say when devices of the plan left, or when one that came would make the model faster."""
        lost = self.services.lost
        text = ""
        if self.services.model is None and lost is None:
            text = self.tr("No model loaded: choose one on the Planner page.")
        elif self.services.model is None and lost is not None:
            text = fill(
                self.tr("%1 left, so the model stopped. The Planner proposes a plan over the devices left."),
                ", ".join(lost.names),
            )
            if lost.replan_failed:
                text += " " + fill(self.tr("Planning again did not work: %1"), lost.replan_failed)
        elif self.services.model is not None:
            better = self.services.better_plan()
            if better is not None:
                text = fill(
                    self.tr("Devices that joined would make this model faster: %1 tokens/s instead of %2."),
                    number(better.tokens_per_s),
                    number(self.services.model.tokens_per_s),
                )
        self.notice.setText(text)
        self.notice_box.setVisible(bool(text))

    def _sampling(self) -> Sampling:
        return Sampling(max_tokens=self.max_tokens.value(), temperature=self.temperature.value())

    def _new_session(self) -> ChatSession:
        return self.services.chat(self.system.text().strip(), self._sampling())

    def _send_or_stop(self) -> None:
        if self.turn is not None:
            self.stop()
        else:
            self.send()

    def send(self, text: str | None = None) -> None:
        text = (text if text is not None else self.composer.toPlainText()).strip()
        if not text or self.turn is not None or self.services.model is None:
            return
        self.composer.clear()
        if self.session is None:
            self.session = self._new_session()
        self.session.system_prompt = self.system.text().strip()
        self.session.sampling = self._sampling()
        self.transcript.append(["user", text, ""])
        self._start(self.session.ask(text, self._piece))

    def regenerate(self) -> None:
        if self.session is None or self.turn is not None or self.services.model is None:
            return
        if self.transcript and self.transcript[-1][0] == "assistant":
            self.transcript.pop()
        self.session.sampling = self._sampling()
        self._start(self.session.regenerate(self._piece))

    def edit_last(self) -> None:
        """Put the last question back in the box, its answer gone, to be changed and sent again."""
        if self.session is None or self.turn is not None:
            return
        spawn(self.session.take_back(), self._error, self._taken_back)

    def _taken_back(self, question: str) -> None:
        last = max((i for i, x in enumerate(self.transcript) if x[0] == "user"), default=len(self.transcript))
        del self.transcript[last:]
        self.composer.setPlainText(question)
        self.composer.setFocus()
        self.render_messages()
        self._update_buttons()
        self.reload_conversations()

    def copy_answer(self) -> None:
        answers = [text for role, text, _ in self.transcript if role == "assistant" and text]
        if answers:
            QGuiApplication.clipboard().setText(answers[-1])

    def _view_menu(self, pos: QPoint) -> None:
        menu = self.view.createStandardContextMenu(pos)
        code = code_block_at(self.view.cursorForPosition(pos))
        if code:
            action = QAction(self.tr("Copy code block"), menu)
            action.triggered.connect(lambda: QGuiApplication.clipboard().setText(code))
            first = menu.actions()[0] if menu.actions() else None
            if first is None:
                menu.addAction(action)
            else:
                menu.insertAction(first, action)
                menu.insertSeparator(first)
        menu.popup(self.view.viewport().mapToGlobal(pos))
        self.view_menu = menu

    def _start(self, coro: Any) -> None:
        self.transcript.append(["assistant", "", ""])
        self.turn = spawn(self._run(coro), self._error)
        self._update_buttons()
        self.render_messages()

    async def _run(self, coro: Any) -> None:
        try:
            done = await coro
            self.last_done = done
            if done.reason == "cancelled":
                self.transcript[-1][2] = "stopped"
            self._show_stats(done)
        except asyncio.CancelledError:
            self.transcript[-1][2] = "stopped"
        except Exception as exc:
            self.transcript[-1][2] = "failed: " + self.services.explain(exc)
            self.stats.setText(self.services.explain(exc))
        finally:
            self.turn = None
            self._update_buttons()
            self.render_messages()
            self.reload_conversations()

    def _show_stats(self, done: m.Done) -> None:
        model = self.services.model
        used = (done.prompt_tokens + done.completion_tokens) / model.n_ctx if model else 0.0
        devices = ", ".join(model.devices) if model else ""
        stats = fill(
            self.tr("%1 tokens/s · first token %2 ms · context %3 % · %4"),
            number(done.decode_tokens_per_s),
            f"{done.ttft_s * 1000:.0f}",
            f"{used * 100:.0f}",
            devices,
        )
        self.context_meter.setValue(min(100, round(used * 100)))
        if done.reason == "cancelled":
            stats = self.tr("Stopped") + " · " + stats
        self.stats.setText(stats)

    def stop(self) -> None:
        if self.turn is not None:
            # The engine stops between tokens (or is ended after a grace period); the turn then
            # finishes as "stopped" with what was said so far.
            spawn(self.services.stop_answer(Who.CHAT, self.turn), self._error)

    def turns_changed(self) -> None:
        turns = self.services.turns
        if turns.serving is Who.API:
            text = self.tr("Answering another app…")
            if turns.waiting:
                text += " " + self.tr("%n more waiting", "", turns.waiting)
            self.activity.setText(text)
        elif turns.serving is None and turns.waiting:
            self.activity.setText(self.tr("%n more waiting", "", turns.waiting))
        self.activity.setVisible(turns.serving is Who.API or (turns.serving is None and turns.waiting > 0))

    def _piece(self, text: str) -> None:
        self.transcript[-1][1] += text
        if not self._render_timer.isActive():
            self._render_timer.start()

    def _update_buttons(self) -> None:
        streaming = self.turn is not None
        self.send_button.setText(self.tr("Stop") if streaming else self.tr("Send"))
        has_model = self.services.model is not None
        self.send_button.setEnabled(streaming or has_model)
        self.regenerate_button.setEnabled(not streaming and has_model and self.session is not None)
        asked = any(role == "user" for role, _, _ in self.transcript)
        self.edit_button.setEnabled(not streaming and self.session is not None and asked)
        self.copy_button.setEnabled(any(role == "assistant" and text for role, text, _ in self.transcript))

    def render_messages(self) -> None:
        names = {"user": self.tr("You"), "assistant": self.tr("Hearth"), "system": self.tr("System")}
        parts = []
        for role, text, note in self.transcript:
            suffix = f" *({markdown_text(self._note(note))})*" if note else ""
            parts.append(f"**{markdown_text(names.get(role, role))}**{suffix}\n\n{text}\n")
        # Markdown, but never HTML: an answer (or a failure quoting a device's name) that holds tags is
        # shown with its tags as text, not drawn as markup.
        self.view.document().setMarkdown("\n---\n\n".join(parts), MARKDOWN)
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _note(self, note: str) -> str:
        """A stored answer's state (``stopped``, ``failed: why``) as the reader's language says it."""
        if note == "stopped":
            return self.tr("stopped")
        if note.startswith("failed: "):
            return fill(self.tr("failed: %1"), note.removeprefix("failed: "))
        if note == "failed":
            return self.tr("failed")
        return note

    def _error(self, exc: BaseException) -> None:
        self.stats.setText(describe(exc))
