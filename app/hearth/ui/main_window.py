"""The main window: a page list on the left, the pages on the right; it follows the node's events."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.service.devices import CodeShown
from hearth.service.events import Event
from hearth.service.root import Hearth
from hearth.service.serving_state import Lost
from hearth.ui import theme, welcome
from hearth.ui.app_icon import app_icon
from hearth.ui.chat_page import ChatPage
from hearth.ui.devices_page import DevicesPage
from hearth.ui.models_page import ModelsPage
from hearth.ui.pairing_dialogs import CodeDialog
from hearth.ui.plain import escape, plain_label
from hearth.ui.planner_page import PlannerPage
from hearth.ui.settings_page import SettingsPage
from hearth.ui.tray import Tray
from hearth.ui.welcome import Welcome

# Telemetry arrives once a second per device; views redraw at most this often.
REDRAW_MS = 250
# How soon a language change waiting for an answer or a load looks again.
RETRY_MS = 300
NAV_ICONS = ("devices", "planner", "chat", "models", "settings")


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, services: Hearth, tray: Tray | None = None) -> None:
        super().__init__()
        self.services = services
        self.tray = tray or Tray(services, self)
        self.setWindowTitle("Hearth")
        self.setWindowIcon(app_icon())
        self.resize(1100, 720)
        self.nav = QListWidget()
        self.nav.setFixedWidth(170)
        self.nav.setSpacing(4)
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setAccessibleName(self.tr("Pages"))
        self.stack = QStackedWidget()
        self._build_pages()
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        for row in range(self.nav.count()):
            # Ctrl+1 … Ctrl+5 (⌘ on a Mac): the page, with the keyboard in its first control.
            shortcut = QShortcut(QKeySequence(f"Ctrl+{row + 1}"), self)
            shortcut.activated.connect(lambda row=row: self.go_to(row))
        self.models.library_empty.connect(self._first_run)
        self.welcome = Welcome(services)
        self.welcome.hide()
        self.welcome.add_device.connect(lambda: self.go_to(0))
        self.welcome.pick_model.connect(self._first_run)
        right = QVBoxLayout()
        right.addWidget(self.welcome)
        right.addWidget(self.stack, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)

        self.code_dialogs: dict[str, CodeDialog] = {}
        self._dirty: set[Event] = set()
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(REDRAW_MS)
        self._redraw.timeout.connect(self._apply_events)
        # The services outlive the window when it is deleted first (tests, scripts).
        unsubscribe = services.events.subscribe(self._event)
        self.destroyed.connect(lambda: unsubscribe())
        self._menus()
        self.tray.open_requested.connect(self.bring_up)
        self.tray.quit_requested.connect(self.quit_requested.emit)
        self._retranslating = False

    def _menus(self) -> None:
        bar = self.menuBar()
        bar.clear()
        hearth_menu = bar.addMenu(self.tr("&Hearth"))
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        if self.quit_action.shortcut().isEmpty():  # some desktops define no quit key: Ctrl+Q all the same
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.quit_requested.emit)
        hearth_menu.addAction(self.quit_action)
        help_menu = bar.addMenu(self.tr("&Help"))
        self.shortcuts_action = QAction(self.tr("Keyboard &shortcuts"), self)
        self.shortcuts_action.setShortcut(QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """The keys the window answers to, each with what it does, as the sheet lists them."""
        native = QKeySequence.SequenceFormat.NativeText
        pages = QKeySequence("Ctrl+1").toString(native)[:-1] + "1 … 5"
        return [
            (pages, self.tr("Go to the page: Devices, Planner, Chat, Models, Settings")),
            (QKeySequence("Ctrl+Return").toString(native), self.tr("Send the message (in the chat)")),
            (self.tr("Tab"), self.tr("Leave the message box for the next control")),
            (self.quit_action.shortcut().toString(native), self.tr("Quit Hearth")),
            (self.shortcuts_action.shortcut().toString(native), self.tr("Show these shortcuts")),
        ]

    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Keyboard shortcuts"))
        form = QFormLayout(dialog)
        for keys, what in self.shortcut_rows():
            key = QLabel(f"<b>{escape(keys)}</b>")
            form.addRow(key, plain_label(what))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        dialog.open()
        self.shortcuts_sheet = dialog

    def _build_pages(self) -> None:
        self.devices = DevicesPage(self.services)
        self.planner = PlannerPage(self.services)
        self.chat = ChatPage(self.services)
        self.models = ModelsPage(self.services)
        self.settings = SettingsPage(self.services)
        self.nav.clear()
        for label, page in (
            (self.tr("Devices"), self.devices),
            (self.tr("Planner"), self.planner),
            (self.tr("Chat"), self.chat),
            (self.tr("Models"), self.models),
            (self.tr("Settings"), self.settings),
        ):
            self.nav.addItem(label)
            self.stack.addWidget(page)
        self.models.changed.connect(self.planner.reload_models)
        self.models.plan_requested.connect(self._plan_model)
        self.models.has_models.connect(self._has_models)
        self.planner.loaded.connect(self._loaded)
        self.chat.replan_requested.connect(self._replan)
        self.chat.measured.connect(self.planner.show_measured)
        self.planner.models_requested.connect(self._first_run)
        self.settings.donation_changed.connect(self.tray.refresh)
        self._nav_icons()

    def _nav_icons(self) -> None:
        for row, name in enumerate(NAV_ICONS):
            item = self.nav.item(row)
            if item is not None:
                item.setIcon(theme.icon(name))

    def go_to(self, row: int) -> None:
        """Show page ``row`` and put the keyboard in its first control."""
        self.nav.setCurrentRow(row)
        page = self.stack.currentWidget()
        widget = page.nextInFocusChain() if page else None
        for _ in range(500):  # the chain is a ring; bounded all the same
            if page is None or widget is None or widget is page:
                break
            if page.isAncestorOf(widget) and widget.isVisible() and widget.isEnabled():
                if widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
                    widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
                    return
            widget = widget.nextInFocusChain()

    def _loaded(self) -> None:
        self.nav.setCurrentRow(2)
        self.chat.composer.setFocus(Qt.FocusReason.OtherFocusReason)

    def _fill_pages(self) -> None:
        self.devices.refresh()
        self.models.reload()
        self.planner.reload_models()
        self.chat.reload_conversations()

    def start(self) -> None:
        """Fill the pages once the services run."""
        self._fill_pages()
        self.tray.show()

    def changeEvent(self, event: QEvent) -> None:
        # Installing a translation sends this to every widget; the pages are made again in the new
        # language once the event has gone round (a page may be the one whose control chose it).
        if event.type() == QEvent.Type.LanguageChange and not self._retranslating:
            self._retranslating = True
            QTimer.singleShot(0, self.retranslate)
        elif event.type() == QEvent.Type.PaletteChange:
            self._nav_icons()  # drawn in the text colour, which light and dark differ in
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Make every page again in the language now installed, keeping what the user was doing."""
        if self.chat.turn is not None or self.planner.busy:
            QTimer.singleShot(RETRY_MS, self.retranslate)  # an answer or a load finishes first
            return
        self._retranslating = False
        row = self.nav.currentRow()
        chat, planner, models = self.chat.keep(), self.planner.keep(), self.models.tabs.currentIndex()
        for page in (self.devices, self.planner, self.chat, self.models, self.settings):
            self.stack.removeWidget(page)
            page.deleteLater()
        self._build_pages()
        self.chat.restore(chat)
        self.planner.restore(planner)
        self.models.tabs.setCurrentIndex(models)
        self.models.seen_library()
        self._fill_pages()
        self.nav.setCurrentRow(row)
        self._menus()
        self.tray.retranslate()

    def _plan_model(self, path: str) -> None:
        self.planner.reload_models(path)
        self.nav.setCurrentRow(1)

    def _replan(self) -> None:
        if self.services.serving.loaded() is None:
            self.planner.propose_after_loss()
        else:
            self.planner.propose_better()
        self.nav.setCurrentRow(1)

    def _has_models(self) -> None:
        if self.welcome.isVisible():
            self.welcome.finish()  # the guide has done its work

    def _first_run(self) -> None:
        self.nav.setCurrentRow(3)
        self.models.show_first_run()
        if welcome.wanted():
            self.welcome.show()
            self.models.catalog_note.setText("")  # the guide says it already

    def bring_up(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()

    def _event(self, what: Event) -> None:
        self._dirty.add(what)
        if not self._redraw.isActive():
            self._redraw.start()

    def _apply_events(self) -> None:
        dirty, self._dirty = self._dirty, set()
        if dirty & {Event.DEVICES, Event.TELEMETRY}:
            self.devices.refresh()
            self.planner.refresh_devices()
        if Event.DEVICES in dirty and Event.MODEL not in dirty:
            self.chat.devices_changed()
        if Event.PAIRING in dirty:
            self._show_codes()
        if dirty & {Event.PAIRING, Event.DEVICES}:
            self._close_paired_codes()
        if Event.DONATION in dirty:
            self.tray.refresh()
            self.settings.show_donation()
        if Event.MODEL in dirty:
            self.chat.model_changed()
            self.planner.model_changed()
            if isinstance(self.services.serving.state, Lost):
                self.planner.propose_after_loss()
        if dirty & {Event.API, Event.OLLAMA, Event.MODEL}:
            self.settings.other_apps.show_status()
        if Event.TURNS in dirty:
            self.chat.turns_changed()
        if Event.DOWNLOADS in dirty:
            self.models.downloads_changed()
        if Event.LIBRARY in dirty:
            self.models.reload()
            self.planner.reload_models()

    def _show_codes(self) -> None:
        for shown in self.services.devices.pending_codes():
            if shown.requester_id in self.code_dialogs:
                continue
            self.code_dialogs[shown.requester_id] = dialog = CodeDialog(shown, self)
            dialog.finished.connect(lambda _, rid=shown.requester_id: self.code_dialogs.pop(rid, None))
            dialog.open()
            if not self.isVisible():
                self.tray.notify(self.tr("Pairing request"), self._code_text(shown))

    def _close_paired_codes(self) -> None:
        """A code dialog whose device has paired has done its work: it closes, and the window says so."""
        paired: dict[str, str] = {d.device_id: d.name for d in self.services.devices.listed() if d.paired}
        for requester_id, dialog in list(self.code_dialogs.items()):
            if requester_id in paired:
                self.statusBar().showMessage(fill(self.tr("Paired with %1."), paired[requester_id]), 15000)
                dialog.accept()
        self.welcome.show_device()

    def _code_text(self, shown: CodeShown) -> str:
        return fill(
            self.tr("%1 wants to pair. Code: %2"), shown.requester_name, f"{shown.code[:3]} {shown.code[3:]}"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        donating = self.services.donation.settings.enabled
        if donating and self.tray.available():
            event.ignore()
            self.hide()
            self.tray.notify("Hearth", self.tr("Hearth keeps donating from the tray."))
            return
        if donating:
            # Said, not asked: the box does not block the event loop, and Hearth quits when it closes.
            event.ignore()
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Hearth",
                self.tr("This desktop has no tray, so closing the window quits Hearth and stops donating."),
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.finished.connect(lambda _: self.quit_requested.emit())
            box.open()
            self.no_tray_notice = box
            return
        event.accept()
        self.quit_requested.emit()
