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
    QResizeEvent,
    QTextBlock,
    QTextCursor,
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
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.service import preferences as prefs
from hearth.service.chat import ChatMessage, ChatSession, Done, MessageStatus, Sampling
from hearth.service.conversations import Conversation, ExportFormat, Message
from hearth.service.root import Hearth
from hearth.service.turns import Who
from hearth.ui.memory_bar import number
from hearth.ui.plain import plain_label, tip
from hearth.ui.planner_page import remember_speed
from hearth.ui.tasks import describe, spawn
from hearth.ui.view import chat as view
from hearth.ui.view import transcript
from hearth.ui.view.chat import ChatView, Entry, Role

RENDER_MS = 50
SPLIT_PREF = "chat_list_width"  # the conversation list's width, kept across restarts
LIST_MIN_WIDTH = 160
DEFAULT_LIST_WIDTH = 240


def code_block_at(cursor: QTextCursor) -> str:
    """The text of the code block under ``cursor`` (a ``<pre>`` of the transcript), or ""."""
    block = cursor.block()

    def is_code(b: QTextBlock) -> bool:
        return b.isValid() and b.blockFormat().nonBreakableLines()

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


def _saved_list_width() -> int:
    try:
        return max(LIST_MIN_WIDTH, int(prefs.read().get(SPLIT_PREF, DEFAULT_LIST_WIDTH)))
    except ValueError:
        return DEFAULT_LIST_WIDTH


@dataclass
class ChatState:
    """What the chat pane holds that a copy of it (in another language) takes over."""

    conversation: ChatView
    system: str
    draft: str
    temperature: float
    max_tokens: int


class ChatPage(QWidget):
    replan_requested = Signal()  # the user wants the Planner's proposal for the devices there are now
    measured = Signal()  # an answer measured the loaded model's speed

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.conversation = ChatView()
        self.turn: asyncio.Task[Any] | None = None

        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Conversations"))
        self.list.itemClicked.connect(self._open_item)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        # A long title is cut with "…" (its whole text in the tooltip), never scrolled sideways.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        new = QPushButton(self.tr("New chat"))
        new.clicked.connect(self.new_chat)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(new)
        left_layout.addWidget(self.list, 1)
        left.setMinimumWidth(LIST_MIN_WIDTH)

        self.model_label = plain_label()  # the model's name, on the devices' names
        self.model_label.setObjectName("chatModel")
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self.view.anchorClicked.connect(self._link)
        self.code_blocks: list[str] = []  # the transcript's code blocks, in the order of their Copy links
        self.view.setAccessibleName(self.tr("Conversation"))
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._view_menu)
        self.stats = plain_label()
        # A long line of stats (many devices' names) is cut, never a reason for the window to widen.
        self.stats.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.activity = plain_label()  # when another app is being answered, or this chat waits for its turn
        self.activity.setObjectName("modelActivity")
        self.activity.setWordWrap(True)
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

        # The list keeps the width the user gave it: answers arriving change only the chat's side.
        self.splitter = splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        # The saved width is given once the splitter has a width of its own: sizes set before that are
        # scaled down with the first layout.
        self._list_width: int | None = _saved_list_width()
        self._save_split = QTimer(self)
        self._save_split.setSingleShot(True)
        self._save_split.setInterval(400)  # written once the drag rests, not for every pixel
        self._save_split.timeout.connect(self.save_split)
        splitter.splitterMoved.connect(lambda *_: self._save_split.start())
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_MS)
        self._render_timer.timeout.connect(self.render_messages)
        self.model_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        total = self.splitter.width()
        if self._list_width is not None and total > self._list_width + LIST_MIN_WIDTH:
            self.splitter.setSizes([self._list_width, total - self._list_width])
            self._list_width = None

    def save_split(self) -> None:
        prefs.write(SPLIT_PREF, str(self.splitter.sizes()[0]))

    def _link(self, url: QUrl) -> None:
        index = transcript.copy_index(url.toString())
        if index is not None:
            self.copy_code(index)
        else:
            _open_web_link(url)

    def copy_code(self, index: int) -> None:
        """Put the ``index``-th code block of the transcript on the clipboard, exactly its code."""
        if 0 <= index < len(self.code_blocks):
            QGuiApplication.clipboard().setText(self.code_blocks[index])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.composer and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._send_or_stop()
                return True
        return super().eventFilter(watched, event)

    @property
    def session(self) -> ChatSession | None:
        return self.conversation.session

    @property
    def last_done(self) -> Done | None:
        return self.conversation.last_done

    def keep(self) -> ChatState:
        return ChatState(
            self.conversation,
            self.system.text(),
            self.composer.toPlainText(),
            self.temperature.value(),
            self.max_tokens.value(),
        )

    def restore(self, state: ChatState) -> None:
        self.conversation = state.conversation
        self.system.setText(state.system)
        self.composer.setPlainText(state.draft)
        self.temperature.setValue(state.temperature)
        self.max_tokens.setValue(state.max_tokens)
        if self.last_done is not None:
            self._show_stats(self.last_done)
        self.render_messages()
        self._update_buttons()

    # --- conversations ---

    def reload_conversations(self) -> None:
        spawn(self.services.conversations.listed(), self._error, self._fill)

    def _fill(self, conversations: list[Any]) -> None:
        current = self.session.conversation_id if self.session else None
        self.list.clear()
        for c in conversations:
            item = QListWidgetItem(c.title)
            item.setToolTip(tip(c.title))
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.list.addItem(item)
            if c.id == current:
                self.list.setCurrentItem(item)

    def new_chat(self) -> None:
        if not self.conversation.new_chat():
            return
        self.stats.setText("")
        self.list.clearSelection()
        self.render_messages()

    def _open_item(self, item: QListWidgetItem) -> None:
        if self.conversation.may_leave():
            self.open_conversation(int(item.data(Qt.ItemDataRole.UserRole)))

    def open_conversation(self, conversation_id: int) -> None:
        spawn(self.services.conversations.read(conversation_id), self._error, self._opened)

    def _opened(self, found: tuple[Conversation, list[Message]] | None) -> None:
        if found is None:
            return
        conversation, messages = found
        session = self._new_session()
        session.resume(
            conversation.id, [ChatMessage(x.role, x.content) for x in messages], conversation.system_prompt
        )
        self.conversation.opened(session, messages)
        self.system.setText(conversation.system_prompt)
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
        spawn(
            self.services.conversations.rename(conversation_id, title),
            self._error,
            lambda _: self.reload_conversations(),
        )

    def delete(self, conversation_id: int) -> None:
        if self.session and self.session.conversation_id == conversation_id:
            self.new_chat()
        spawn(
            self.services.conversations.delete(conversation_id),
            self._error,
            lambda _: self.reload_conversations(),
        )

    def export(self, conversation_id: int, kind: str, path: str | None = None) -> None:
        if path is None:
            pattern = self.tr("Markdown (*.md)") if kind == "md" else self.tr("JSON (*.json)")
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export conversation"), "", pattern)
            if not path:
                return
        target = Path(path)
        spawn(
            self.services.conversations.export(conversation_id, ExportFormat(kind), target),
            self._error,
            lambda _: self.stats.setText(fill(self.tr("Exported to %1"), target)),
        )

    # --- turns ---

    def model_changed(self) -> None:
        heading = view.heading(self.services.serving.loaded())
        if heading is None:
            self.model_label.setText("")  # the notice says what to do, with the button to do it
        else:
            text = fill(self.tr("%1 on %2"), heading.name, ", ".join(heading.devices))
            if heading.details:
                text = f"{text} ({heading.details})"
            if heading.continues_text:
                # A base model: the chat still works, but the user should not expect an assistant.
                note = self.tr("continues text; not tuned for chat")
                text = f"{text} — {note}"
            self.model_label.setText(text)
        self.devices_changed()
        self._update_buttons()

    def devices_changed(self) -> None:
        """Say when devices of the plan left, or when one that came would make the model faster."""
        text = ""
        match view.notice(self.services.serving.state, self.services.serving.better_plan):
            case view.ModelLost() as lost:
                text = fill(
                    self.tr(
                        "%1 left, so the model stopped. The Planner proposes a plan over the devices left."
                    ),
                    ", ".join(lost.names),
                )
                if lost.replan_failed:
                    text += " " + fill(self.tr("Planning again did not work: %1"), lost.replan_failed)
            case view.FasterPlan() as faster:
                text = fill(
                    self.tr("Devices that joined would make this model faster: %1 tokens/s instead of %2."),
                    number(faster.tokens_per_s),
                    number(faster.instead_of),
                )
            case view.NoModel():
                text = self.tr("No model loaded: choose one on the Planner page.")
        self.notice.setText(text)
        self.notice_box.setVisible(bool(text))

    def _sampling(self) -> Sampling:
        return Sampling(max_tokens=self.max_tokens.value(), temperature=self.temperature.value())

    def _new_session(self) -> ChatSession:
        return self.services.conversations.chat(self.system.text().strip(), self._sampling())

    def _has_model(self) -> bool:
        return self.services.serving.loaded() is not None

    def _send_or_stop(self) -> None:
        if self.conversation.answering:
            self.stop()
        else:
            self.send()

    def send(self, text: str | None = None) -> None:
        typed = text if text is not None else self.composer.toPlainText()
        question = self.conversation.question(typed, self._has_model())
        if not question:
            return
        self.composer.clear()
        session = self.session or self._new_session()
        session.system_prompt = self.system.text().strip()
        session.sampling = self._sampling()
        self.conversation.asked(session, question)
        self._start(session.ask(question, self._piece))

    def regenerate(self) -> None:
        session = self.session
        if session is None or not self.conversation.buttons(self._has_model()).regenerate:
            return
        session.sampling = self._sampling()
        self.conversation.regenerating()
        self._start(session.regenerate(self._piece))

    def edit_last(self) -> None:
        """Put the last question back in the box, its answer gone, to be changed and sent again."""
        if self.session is None or not self.conversation.may_edit():
            return
        spawn(self.session.take_back(), self._error, self._taken_back)

    def _taken_back(self, question: str) -> None:
        self.conversation.taken_back()
        self.composer.setPlainText(question)
        self.composer.setFocus()
        self.render_messages()
        self._update_buttons()
        self.reload_conversations()

    def copy_answer(self) -> None:
        answer = self.conversation.last_answer()
        if answer is not None:
            QGuiApplication.clipboard().setText(answer)

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
        self.turn = spawn(self._run(coro), self._error)
        self._update_buttons()
        self.render_messages()

    async def _run(self, coro: Any) -> None:
        try:
            done = await coro
        except asyncio.CancelledError:
            self.conversation.stopped()
        except Exception as exc:
            why = self.services.serving.explain(exc)
            self.conversation.failed(why)
            self.stats.setText(why)
        else:
            self.conversation.done(done)
            self._show_stats(done)
            loaded = self.services.serving.loaded()
            if loaded is not None:
                remember_speed(loaded.profile.path, done.decode_tokens_per_s)
                self.measured.emit()
        finally:
            self.turn = None
            self._update_buttons()
            self.render_messages()
            self.reload_conversations()

    def _show_stats(self, done: Done) -> None:
        said = view.stats(done, self.services.serving.loaded())
        # The devices come last, as the line always ends; how many guesses were kept goes before them.
        devices = ", ".join(said.devices)
        if said.kept is not None:
            devices = fill(self.tr("%1 % of guesses kept"), f"{said.kept * 100:.0f}") + " · " + devices
        # The context used is the meter's to show, beside this line.
        stats = fill(
            self.tr("%1 tokens/s · first token %2 ms · %3"),
            number(said.tokens_per_s),
            f"{said.first_token_ms:.0f}",
            devices,
        )
        self.context_meter.setValue(min(100, round(said.context_used * 100)))
        if said.stopped:
            stats = self.tr("Stopped") + " · " + stats
        self.stats.setText(stats)
        self.stats.setToolTip(tip(stats))

    def stop(self) -> None:
        if self.turn is not None:
            # The engine stops between tokens (or is ended after a grace period); the turn then
            # finishes as "stopped" with what was said so far.
            spawn(self.services.serving.stop_answer(Who.CHAT, self.turn), self._error)

    def turns_changed(self) -> None:
        activity = view.activity(self.services.serving.queue())
        if activity is None:
            self.activity.setVisible(False)
            return
        parts = []
        if activity.this_waits and activity.at_once > 1:
            parts.append(
                self.tr(
                    "Waiting for a place: the model gives %n answers at once, all taken.",
                    "",
                    activity.at_once,
                )
            )
        elif activity.this_waits or activity.other_app:
            parts.append(self.tr("Answering another app…"))
        if activity.at_once > 1 and activity.running > 1 and not activity.this_waits:
            parts.append(self.tr("%n answers running", "", activity.running))
        # This chat's own answer waiting is said above; the rest wait after it.
        others = activity.waiting - (1 if activity.this_waits else 0)
        if others > 0:
            parts.append(self.tr("%n more waiting", "", others))
        self.activity.setText(" ".join(parts))
        self.activity.setVisible(bool(parts))

    def _piece(self, text: str) -> None:
        self.conversation.piece(text)
        if not self._render_timer.isActive():
            self._render_timer.start()

    def _update_buttons(self) -> None:
        may = self.conversation.buttons(self._has_model())
        self.send_button.setText(self.tr("Stop") if may.stop else self.tr("Send"))
        self.send_button.setEnabled(may.send)
        self.regenerate_button.setEnabled(may.regenerate)
        self.edit_button.setEnabled(may.edit)
        self.copy_button.setEnabled(may.copy)

    def render_messages(self) -> None:
        names = {Role.USER: self.tr("You"), Role.ASSISTANT: self.tr("Hearth"), Role.SYSTEM: self.tr("System")}
        cards = [
            transcript.Card(e.role.value, names[e.role], e.text, self._note(e))
            for e in self.conversation.messages
        ]
        colors = transcript.Colors.for_theme(self.palette().base().color().lightness() < 128)
        shown = transcript.render(cards, colors, self.tr("Copy"), self.tr("code"))
        self.code_blocks = shown.code_blocks
        bar = self.view.verticalScrollBar()
        # Following the answer only while the reader is at its end: scrolled back, the view stays put.
        follow = bar.value() >= bar.maximum() - 4
        kept = bar.value()
        self.view.setHtml(shown.html)
        bar.setValue(bar.maximum() if follow else kept)
        if follow:
            # A page not laid out yet (made again in another language) knows its length only later.
            QTimer.singleShot(0, self, self._to_end)

    def _to_end(self) -> None:
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _note(self, entry: Entry) -> str:
        """How an answer ended, as the reader's language says it; "" for one complete or under way."""
        match entry.status:
            case MessageStatus.DONE | MessageStatus.STREAMING:
                return ""
            case MessageStatus.STOPPED:
                return self.tr("stopped")
            case MessageStatus.FAILED if entry.error:
                return fill(self.tr("failed: %1"), entry.error)
            case MessageStatus.FAILED:
                return self.tr("failed")
        # Interrupted: the history's own word for it, which has no translation yet.
        return entry.status.value

    def _error(self, exc: BaseException) -> None:
        self.stats.setText(describe(exc))
