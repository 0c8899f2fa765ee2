"""The planner: pick a model, see where its layers go and what every device would hold, then load."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.core.memory import DeviceMemory
from hearth.core.names import model_details, model_display_name
from hearth.core.plan import HOST, split_key
from hearth.core.plan_edit import PlanDraft
from hearth.core.planner import Overflow, Prediction
from hearth.core.profile import ModelProfile
from hearth.service import preferences as prefs
from hearth.service.models import LibraryEntry
from hearth.service.planning import DEFAULT_BYTES_PER_S, PlanColumn, PlanningDevice
from hearth.service.root import Hearth
from hearth.service.serving_state import Lost
from hearth.ui import colors
from hearth.ui.device_column import DeviceColumn
from hearth.ui.guessing_line import GuessingLine
from hearth.ui.layer_strip import LayerStrip
from hearth.ui.legend import Legend
from hearth.ui.memory_bar import gib, number, params
from hearth.ui.plain import escape, plain_label
from hearth.ui.tasks import describe, spawn
from hearth.ui.view.planner import (
    DevicesLeft,
    FasterPlan,
    MlxAlone,
    Note,
    PlannerView,
    PlanStatus,
    Proposal,
    SizeRequest,
)

MEASURED_PREF = "measured_speed:"  # + a model's path: its last answer's decode speed, tokens/s


def measured_speed(path: str) -> float | None:
    """The decode speed the last answer of the model at ``path`` measured, if one was."""
    try:
        return float(prefs.read()[MEASURED_PREF + path])
    except (KeyError, ValueError):
        return None


def remember_speed(path: str, tokens_per_s: float) -> None:
    if tokens_per_s > 0:
        prefs.write(MEASURED_PREF + path, f"{tokens_per_s:.2f}")


class PlannerPage(QWidget):
    loaded = Signal()
    models_requested = Signal()  # the library is empty and the user wants to get a model

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.plan = PlannerView(services.plans)
        self.columns: list[DeviceColumn] = []
        self._columns_version = -1  # the plan's layout of columns these were made for
        self._predictions = 0  # the plan's predictions seen, each sized once it settles
        self._loading: asyncio.Task[Any] | None = None
        self._sizing: asyncio.Task[Any] | None = None

        self.model_box = QComboBox()
        self.model_box.currentIndexChanged.connect(self._model_chosen)
        self.card = QLabel()  # rich on purpose: the model's own words in it are escaped
        self.card.setWordWrap(True)
        self.models_button = QPushButton(self.tr("Get a model"))
        self.models_button.clicked.connect(self.models_requested.emit)
        self.models_button.hide()
        self.strip = LayerStrip()
        self.strip.changed.connect(self._draft_edited)
        self.ctx_slider = QSlider(Qt.Orientation.Horizontal)
        self.ctx_slider.valueChanged.connect(self._ctx_changed)
        self.ctx_label = QLabel()
        self.auto_button = QPushButton(self.tr("Auto plan"))
        self.auto_button.clicked.connect(self.auto)
        self.load_button = QPushButton(self.tr("Load"))
        self.load_button.clicked.connect(self.load)
        self.twin_button = QPushButton(self.tr("Use its GGUF"))
        self.twin_button.setToolTip(self.tr("The same model as GGUF, from this device's library: it pools"))
        self.twin_button.clicked.connect(self._use_twin)
        self.twin_button.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.speed = plain_label()
        # Long in some languages (speed, answers at once, the measurement): it wraps rather than
        # making the window wider.
        self.speed.setWordWrap(True)
        self.basis = plain_label()  # devices' names: what the prediction rests on
        self.basis.setWordWrap(True)
        self.basis.setObjectName("predictionBasis")
        self.guessing = GuessingLine(services.drafting)
        self.legend = Legend()
        self.status = plain_label()  # devices' names and errors
        self.status.setWordWrap(True)
        self.columns_row = QHBoxLayout()
        self.columns_row.addStretch(1)
        columns = QWidget()
        columns.setLayout(self.columns_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(columns)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing in it takes keys: Tab goes on to Load

        top = QHBoxLayout()
        self.model_box.setAccessibleName(self.tr("Model"))
        self.ctx_slider.setAccessibleName(self.tr("Context"))
        self.strip.setAccessibleName(self.tr("Layers of the model"))
        top.addWidget(QLabel(self.tr("Model")))
        top.addWidget(self.model_box, 1)
        ctx_row = QHBoxLayout()
        ctx_row.addWidget(QLabel(self.tr("Context")))
        ctx_row.addWidget(self.ctx_slider, 1)
        ctx_row.addWidget(self.ctx_label)
        actions = QHBoxLayout()
        actions.addWidget(self.auto_button)
        actions.addWidget(self.speed, 1)
        actions.addWidget(self.twin_button)
        actions.addWidget(self.load_button)
        actions.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        card_row = QHBoxLayout()
        card_row.addWidget(self.card, 1)
        card_row.addWidget(self.models_button)
        layout.addLayout(card_row)
        layout.addWidget(self.strip)
        layout.addLayout(ctx_row)
        layout.addWidget(self.legend)
        layout.addWidget(scroll, 1)
        layout.addLayout(actions)
        layout.addWidget(self.basis)
        layout.addWidget(self.guessing)
        layout.addWidget(self.status)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh_devices)
        self.timer.start()

    # --- what the page shows, from the plan's state ---

    @property
    def entries(self) -> list[LibraryEntry]:
        return self.plan.entries

    @property
    def profile(self) -> ModelProfile | None:
        return self.plan.profile

    @property
    def devices(self) -> list[PlanningDevice]:
        return self.plan.devices

    @property
    def draft(self) -> PlanDraft | None:
        return self.plan.draft

    @property
    def prediction(self) -> Prediction | None:
        return self.plan.prediction

    @property
    def n_ctx(self) -> int:
        return self.plan.n_ctx

    @property
    def busy(self) -> bool:
        return self.plan.loading

    def _after(self) -> None:
        """Show the plan's state after it changed, and size a new prediction once it settles."""
        if self.plan.predictions != self._predictions:
            self._predictions = self.plan.predictions
            if self._sizing is not None:
                self._sizing.cancel()
                self._sizing = None
            if self.plan.to_size is not None:
                self._sizing = spawn(self.plan.size(self.plan.to_size), None, self._sized)
        self._draw()

    def _draw(self) -> None:
        plan = self.plan
        if self._columns_version != plan.columns_version:
            self._columns_version = plan.columns_version
            self._rebuild_columns()
        if self.strip.draft is not plan.draft:
            # Columns follow the devices' order; the draft may order the pipeline differently.
            keys = [c.key for c in plan.columns]
            palette = (
                [
                    colors.device_color(keys.index(k)) if k in keys else colors.SYSTEM
                    for k in plan.draft.devices
                ]
                if plan.draft is not None
                else []
            )
            self.strip.set_draft(plan.draft, palette)
        self.load_button.setEnabled(plan.may_load())
        if plan.profile is not None and plan.draft is not None:
            self.twin_button.setVisible(plan.offers_twin())
            self.ctx_label.setText(str(plan.n_ctx))
            if plan.prediction is not None:
                self._show(plan.prediction)
        self.status.setText(self._status_text())

    def _status_text(self) -> str:
        plan = self.plan
        match plan.status:
            case PlanStatus.NOTE:
                return self._note_text(plan.note)
            case PlanStatus.PROBLEM:
                return plan.problem
            case PlanStatus.OVER:
                names = {c.key: self._column_name(c) for c in plan.columns}
                return "; ".join(
                    self._overflow_text(o, names.get(o.device, o.device)) for o in plan.overflows()
                )
            case PlanStatus.LOADING:
                return self.tr("Loading…")
            case PlanStatus.LOADED:
                return fill(self.tr("Loaded on %1"), ", ".join(plan.loaded_on))
            case PlanStatus.LOAD_FAILED:
                return fill(self.tr("Could not load: %1"), plan.problem)
            case PlanStatus.CANCELLED:
                return self.tr("Loading cancelled")

    def _note_text(self, note: Note | None) -> str:
        match note:
            case DevicesLeft(names=names):
                text = self.tr("%1 left. The plan below uses the devices that are left: Load to go on.")
                return fill(text, ", ".join(names))
            case FasterPlan():
                return self.tr("A faster plan with the devices that joined.")
            case MlxAlone():
                return self.tr(
                    "MLX models run on this Mac alone; to pool this model over your devices, use its GGUF."
                )
        return ""

    # --- models ---

    def propose(self, path: str, n_ctx: int, note: Note | None) -> None:
        """Show the best plan for ``path`` at ``n_ctx`` over the devices there are now, saying ``note``."""
        self.plan.proposal = Proposal(path, n_ctx, note)
        self.reload_models(path)

    def keep(self) -> Proposal | None:
        """What this page shows, for a copy of it to show again."""
        return self.plan.keep()

    def restore(self, kept: Proposal | None) -> None:
        self.plan.proposal = kept

    def model_changed(self) -> None:
        model = self.services.serving.loaded()
        if model is None:
            self.plan.served(None)
        else:
            self.plan.served(model.profile.path, tuple(model.devices), model.plan)
        self._draw()

    def propose_after_loss(self) -> None:
        lost = self.services.serving.state
        if isinstance(lost, Lost):
            self.propose(lost.profile.path, lost.n_ctx, DevicesLeft(lost.names))

    def propose_better(self) -> None:
        model = self.services.serving.loaded()
        if model is not None:
            self.propose(model.profile.path, model.n_ctx, FasterPlan())

    def reload_models(self, select: str | None = None) -> None:
        spawn(self.services.models.entries(), self._error, lambda e: self._fill(e, select))

    def _fill(self, entries: list[LibraryEntry], select: str | None) -> None:
        current = select or (self.plan.profile.path if self.plan.profile else None)
        self.plan.listed(entries)
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for e in self.plan.entries:
            assert e.profile is not None
            details = model_details(e.profile.architecture, e.profile.dominant_type)
            self.model_box.addItem(f"{model_display_name(e.path, e.profile.name)} — {details}", e.path)
        index = self.model_box.findData(current) if current else -1
        self.model_box.blockSignals(False)
        self.model_box.setCurrentIndex(max(index, 0) if self.plan.entries else -1)
        self._model_chosen(self.model_box.currentIndex())
        if self.plan.apply_proposal():
            self._show_context()
            self._after()

    def _model_chosen(self, index: int) -> None:
        chosen = self.plan.choose(index)
        profile = self.plan.profile
        self.models_button.setVisible(profile is None)
        if not chosen:
            return
        if profile is None:
            self.card.setText(self.tr("No model yet: download or import one on the Models page."))
        else:
            self.card.setText(
                f"<b>{escape(model_display_name(profile.path, profile.name))}</b> · "
                f"{escape(profile.architecture)} · "
                f"{escape(params(profile.parameters))} · {escape(profile.dominant_type)} · "
                + escape(fill(self.tr("%1 layers"), profile.block_count))
                + f" · {escape(gib(profile.file_size))} · "
                + escape(fill(self.tr("context %1"), profile.context_length))
            )
            self._show_context()
        self._after()

    def _show_context(self) -> None:
        self.ctx_slider.blockSignals(True)
        self.ctx_slider.setRange(0, len(self.plan.steps()) - 1)
        self.ctx_slider.setValue(self.plan.ctx_index)
        self.ctx_slider.blockSignals(False)

    def _ctx_changed(self) -> None:
        self.plan.set_context(self.ctx_slider.value())
        self.ctx_label.setText(str(self.plan.n_ctx))
        self._after()

    # --- devices ---

    def refresh_devices(self) -> None:
        self.plan.refresh()
        self._after()

    def _rebuild_columns(self) -> None:
        for column in self.columns:
            column.deleteLater()
        self.columns = []
        for i, c in enumerate(self.plan.columns):
            name = fill(self.tr("%1 (this device)"), c.name) if c.device == HOST else c.name
            column = DeviceColumn(i, name, colors.device_color(i), self._pool_text(c))
            column.dropped.connect(self._dropped)
            self.columns_row.insertWidget(i, column)
            self.columns.append(column)

    # --- the plan ---

    def auto(self) -> None:
        self.plan.auto()
        self._after()

    def _draft_edited(self) -> None:
        self.update_prediction()

    def _dropped(self, start: int, end: int, column: int) -> None:
        if self.plan.drop(start, end, column):
            self.strip.update()
        self._after()

    def update_prediction(self) -> None:
        self.plan.update()
        self._after()

    def _sized(self, result: tuple[SizeRequest, Prediction]) -> None:
        if self.plan.sized(*result):
            self._draw()

    def _show(self, prediction: Prediction) -> None:
        placed = {p.device: p for p in prediction.placements}
        for column, c in zip(self.columns, self.plan.columns, strict=False):
            p = placed.get(c.key)
            memory = p.memory if p else DeviceMemory(0, 0, 0)
            layers = (p.start, p.end - 1) if p and p.end > p.start else None
            overflow = prediction.over.get(c.key)
            over = self._overflow_text(overflow, self._column_name(c)) if overflow else ""
            column.show_plan(layers, memory, c.memory_total, c.memory_free, c.usable, over)
        speed = fill(self.tr("predicted %1 tokens/s"), number(prediction.tokens_per_s))
        speed += " · " + self._at_once_text(prediction.at_once, self.plan.n_ctx)
        if prediction.sized_by_llama:
            speed += " · " + self.tr("memory as llama.cpp sizes it")
        measured = measured_speed(self.profile.path) if self.profile else None
        if measured is not None:
            speed += " · " + fill(self.tr("last measured %1 tokens/s"), number(measured))
        self.speed.setText(speed)
        self.basis.setText(self._basis(prediction))
        self.guessing.propose(self.profile, self.plan.n_ctx, prediction.at_once)
        self.load_button.setToolTip(self.tr("A device would run out of memory") if prediction.over else "")

    def _at_once_text(self, at_once: int, n_ctx: int) -> str:
        """How many answers the plan gives together and the context of each (``batch_size.describe``
        in the window's language)."""
        tokens = number(n_ctx, 0)
        if at_once <= 1:
            return fill(self.tr("1 answer at a time at %1 tokens"), tokens)
        return fill(self.tr("%n answers at once at %1 tokens each", "", at_once), tokens)

    def _basis(self, prediction: Prediction) -> str:
        """What the prediction assumed of each pool in the plan: its read speed, and for another
        device its round trip."""
        used = {p.device for p in prediction.placements if p.end > p.start}
        devices = {d.key: d for d in self.plan.devices}
        said = []
        reached: set[str] = set()
        for c in self.plan.columns:
            d = devices.get(c.device)
            if c.key not in used or d is None:
                continue
            if c.key != c.device:
                index = split_key(c.key)[1] or 0
                probed = index < len(d.gpus) and d.gpus[index].bytes_per_s > 0
                if probed and index < len(d.spec.accelerators):
                    speed = d.spec.accelerators[index].bytes_per_s
                    part = fill(self.tr("%1 reads %2/s"), self._column_name(c), gib(speed))
                else:
                    part = fill(self.tr("%1 at an assumed speed (not probed yet)"), self._column_name(c))
            elif d.spec.bytes_per_s != DEFAULT_BYTES_PER_S:
                part = fill(self.tr("%1 reads %2/s"), self._column_name(c), gib(d.spec.bytes_per_s))
            else:
                part = fill(self.tr("%1 at an assumed speed (not probed yet)"), self._column_name(c))
            if c.device != HOST and c.device not in reached:
                # One round trip into a device, however many of its pools hold layers.
                reached.add(c.device)
                part += " · " + fill(self.tr("%1 ms a token over the network"), number(d.spec.hop_s * 1000))
            said.append(part)
        return fill(self.tr("Predicted from: %1"), "; ".join(said)) if said else ""

    def show_measured(self) -> None:
        """An answer measured the loaded model's speed: say it beside the prediction."""
        if self.plan.prediction is not None:
            self._show(self.plan.prediction)

    def _use_twin(self) -> None:
        twin = self.plan.twin()
        if twin is not None:
            self.model_box.setCurrentIndex(self.model_box.findData(twin.path))

    def _pool_text(self, column: PlanColumn) -> str:
        """Which memory of its device a column is: a GPU's, or the RAM beside GPUs; "" for a device
        with no GPU, whose RAM is all it has."""
        if column.gpu:
            if column.shares_ram:
                return fill(self.tr("%1 · shares the RAM"), column.gpu)
            return fill(self.tr("%1 · GPU memory"), column.gpu)
        has_gpu = any(c.device == column.device and c.gpu for c in self.plan.columns)
        return self.tr("CPU · RAM") if has_gpu else ""

    def _column_name(self, column: PlanColumn) -> str:
        return fill(self.tr("%1 (%2)"), column.name, column.gpu) if column.gpu else column.name

    def _overflow_text(self, overflow: Overflow, name: str) -> str:
        return fill(
            self.tr("%1 would need %2 but has %3: over by %4"),
            name,
            gib(overflow.need),
            gib(overflow.cap),
            gib(overflow.excess),
        )

    # --- loading ---

    def load(self) -> None:
        request = self.plan.begin_load()
        if request is None:
            return
        self.cancel_button.show()
        self._draw()
        self._loading = spawn(
            self.services.serving.load(request.profile, request.plan, request.n_ctx, self._progress),
            self._load_failed,
            self._load_done,
        )

    def _progress(self, per_device: dict[str, float]) -> None:
        self.plan.load_progress(per_device)
        self._show_progress()

    def _show_progress(self) -> None:
        progress = self.plan.progress
        for column, c in zip(self.columns, self.plan.columns, strict=False):
            column.set_progress(progress.get(c.key) if progress is not None else None)

    def _load_done(self, model: Any) -> None:
        self._loading = None
        self.plan.loaded(tuple(model.devices), model.plan)
        self._finished_loading()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self._loading = None
        self.plan.load_failed(self.services.serving.explain(exc))
        self._finished_loading()

    def _finished_loading(self) -> None:
        self.cancel_button.hide()
        self._show_progress()
        self._after()

    def cancel(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
            self.plan.load_cancelled()
            self._finished_loading()

    def _error(self, exc: BaseException) -> None:
        self.plan.say_problem(describe(exc))
        self._draw()
