"""Settings: language, what this device donates, the API for other apps, and a word on the theme."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hearth.core.errors import HearthError
from hearth.core.fill import fill
from hearth.service.root import Hearth
from hearth.service.storage import MOST_AT_ONCE
from hearth.ui import i18n, theme
from hearth.ui.guessing_box import GuessingBox
from hearth.ui.other_apps import OtherAppsBox
from hearth.ui.plain import plain_label
from hearth.ui.tasks import describe, spawn

GIB = 2**30


class SettingsPage(QWidget):
    donation_changed = Signal()

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.language = QComboBox()
        for code, name in i18n.LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(i18n.current_language())))
        self.language.currentIndexChanged.connect(self._language_chosen)
        self.theme = QComboBox()
        for code, name in (
            ("system", self.tr("As the system")),
            ("light", self.tr("Light")),
            ("dark", self.tr("Dark")),
        ):
            self.theme.addItem(name, code)
        self.theme.setCurrentIndex(max(0, self.theme.findData(theme.chosen())))
        self.theme.currentIndexChanged.connect(lambda _: theme.choose(self.theme.currentData()))
        self.donate = QCheckBox(self.tr("Let paired devices use this device's compute"))
        # Why the workers are reachable by other accounts here: the service's words, so plain text.
        self.not_isolated = plain_label()
        self.not_isolated.setWordWrap(True)
        self.memory = QDoubleSpinBox()
        self.memory.setRange(0.0, 4096.0)
        self.memory.setSuffix(" GiB")
        self.memory.setSpecialValueText(self.tr("half of this device's memory"))
        self.vram = QDoubleSpinBox()
        self.vram.setRange(0.0, 4096.0)
        self.vram.setSuffix(" GiB")
        self.vram.setSpecialValueText(self.tr("each GPU's memory less headroom"))
        self.threads = QSpinBox()
        self.threads.setRange(0, 1024)
        self.threads.setSpecialValueText(self.tr("all cores"))
        self.replan = QCheckBox(
            self.tr("When a device of the plan leaves, load the best plan over the devices left")
        )
        self.replan.setChecked(services.plans.pooling.replan_automatically)
        self.replan.toggled.connect(lambda on: self.services.plans.set_pooling(replan_automatically=on))
        self.answers = QCheckBox(self.tr("Answer paired devices' apps when their model is busy"))
        self.answers.setToolTip(
            self.tr(
                "With the model loaded here, when it is the file theirs is, and only into a place free "
                "at that moment: this window and this device's apps never wait behind them."
            )
        )
        self.answers.setChecked(services.donation.settings.answers)
        self.answers.toggled.connect(self._answers_chosen)
        self.loads = QCheckBox(
            self.tr("With nothing loaded here, load the same model from this library for them")
        )
        self.loads.setToolTip(
            self.tr(
                "Only while nothing is loaded or loading here and nothing is lent to a paired device. "
                "The model takes this device's memory, and is unloaded again after 5 minutes without "
                "answers, unless this window's chat answers with it."
            )
        )
        self.loads.setChecked(services.donation.settings.loads)
        self.loads.setEnabled(services.donation.settings.answers)
        self.loads.toggled.connect(self._loads_chosen)
        self.answers.toggled.connect(self.loads.setEnabled)
        apply = QPushButton(self.tr("Apply"))
        apply.clicked.connect(self.apply)
        self.status = plain_label()  # or an error
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Language"), self.language)
        form.addRow(self.tr("Theme"), self.theme)
        form.addRow(self.donate)
        form.addRow(self.not_isolated)
        form.addRow(self.tr("Memory cap"), self.memory)
        form.addRow(self.tr("GPU memory cap"), self.vram)
        form.addRow(self.tr("Thread cap"), self.threads)
        form.addRow(apply)
        form.addRow(self.replan)
        form.addRow(self.answers)
        form.addRow(self.loads)
        self.guessing = GuessingBox(services.drafting)
        form.addRow(self.tr("Guess tokens ahead"), self.guessing)
        self.at_once = QComboBox()
        self.at_once.addItem(self.tr("As many as memory allows"), 0)
        for n in range(1, MOST_AT_ONCE + 1):
            self.at_once.addItem(str(n), n)
        self.at_once.setCurrentIndex(max(0, self.at_once.findData(services.plans.at_once)))
        self.at_once.setToolTip(
            self.tr(
                "How many answers the model gives together, to this window and other apps: each one "
                "holds a context of its own in memory. Applies from the next load."
            )
        )
        self.at_once.currentIndexChanged.connect(self._at_once_chosen)
        form.addRow(self.tr("Answers at once"), self.at_once)
        self.other_apps = OtherAppsBox(services)
        # Scrolled, so that the page's length never sets the window's height.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.other_apps)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the settings take the keyboard, not the frame
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_donation()

    def show_donation(self) -> None:
        d = self.services.donation.settings
        self.donate.setChecked(d.enabled)
        self.memory.setValue(d.max_memory / GIB)
        self.vram.setValue(d.max_vram / GIB)
        self.threads.setValue(d.threads)
        for box, on in ((self.answers, d.answers), (self.loads, d.loads)):
            blocked = box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(blocked)
        self.loads.setEnabled(d.answers)
        why = self.services.donation.workers_exposed
        self.not_isolated.setText(
            fill(
                self.tr(
                    "Not isolated: other accounts on this computer can reach the workers it runs for "
                    "paired devices (%1)."
                ),
                why,
            )
            if why
            else ""
        )
        self.not_isolated.setVisible(bool(why))

    def apply(self) -> None:
        donate = self.services.donation.donate(
            self.donate.isChecked(),
            int(self.memory.value() * GIB),
            self.threads.value(),
            max_vram=int(self.vram.value() * GIB),
        )
        spawn(donate, self._error, lambda _: self._applied())

    def _applied(self) -> None:
        self.status.setText(self.tr("Saved."))
        self.donation_changed.emit()

    def _answers_chosen(self, on: bool) -> None:
        spawn(self.services.donation.answer_devices(on), self._error, lambda _: self._applied())

    def _loads_chosen(self, on: bool) -> None:
        spawn(self.services.donation.answer_devices(loads=on), self._error, lambda _: self._applied())

    def _at_once_chosen(self) -> None:
        try:
            self.services.plans.set_at_once(int(self.at_once.currentData()))
        except HearthError as exc:
            self._error(exc)

    def _language_chosen(self) -> None:
        code = self.language.currentData()
        i18n.set_language(code)
        app = QCoreApplication.instance()
        if app is not None:
            i18n.install(app, code)  # every window hears of it and speaks the new language

    def _error(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))
