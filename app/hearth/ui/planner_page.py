"""The planner: pick a model, see where its layers go and what every device would hold, then load."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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
from hearth.core.plan import HOST, PlanError
from hearth.core.plan_edit import PlanDraft
from hearth.core.planner import Overflow, Prediction
from hearth.core.profile import ModelProfile
from hearth.models.library import LibraryEntry, same_model_key
from hearth.service.app import Services
from hearth.service.planning import PlanningDevice
from hearth.ui import colors
from hearth.ui.device_column import DeviceColumn
from hearth.ui.layer_strip import LayerStrip
from hearth.ui.memory_bar import gib, number, params
from hearth.ui.plain import escape, plain_label
from hearth.ui.tasks import describe, spawn

# How long the plan must stay as it is before llama.cpp is asked to size it.
SIZE_AFTER_S = 0.25

MIN_CTX = 256


@dataclass(frozen=True)
class Proposal:
    """What the page is to show once the library is read: a model, its context, a plan, a note."""

    path: str
    n_ctx: int
    note: str = ""
    draft: PlanDraft | None = None  # None: the planner's best


def context_steps(maximum: int) -> list[int]:
    """Context lengths the slider offers: powers of two up to the model's own."""
    steps, n = [], MIN_CTX
    while n < maximum:
        steps.append(n)
        n *= 2
    return [*steps, max(maximum, MIN_CTX)]


class PlannerPage(QWidget):
    loaded = Signal()
    models_requested = Signal()  # the library is empty and the user wants to get a model

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.entries: list[LibraryEntry] = []
        self.profile: ModelProfile | None = None
        self.devices: list[PlanningDevice] = []
        self.draft: PlanDraft | None = None
        self.prediction: Prediction | None = None
        self.columns: list[DeviceColumn] = []
        self._loading: asyncio.Task[Any] | None = None
        self._sizing: asyncio.Task[Any] | None = None
        self._proposal: Proposal | None = None
        self._note = ""  # what the status line says while nothing else needs saying

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
        layout.addWidget(scroll, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh_devices)
        self.timer.start()

    # --- models ---

    def propose(self, path: str, n_ctx: int, note: str) -> None:
        """Show the best plan for ``path`` at ``n_ctx`` over the devices there are now, saying ``note``."""
        self._proposal = Proposal(path, n_ctx, note)
        self.reload_models(path)

    @property
    def busy(self) -> bool:
        return self._loading is not None

    def keep(self) -> Proposal | None:
        """What this page shows, for a copy of it to show again."""
        if self.profile is None:
            return None
        return Proposal(self.profile.path, self.n_ctx, self._note, self.draft)

    def restore(self, kept: Proposal | None) -> None:
        self._proposal = kept

    def propose_after_loss(self) -> None:
        lost = self.services.lost
        if lost is not None:
            note = self.tr("%1 left. The plan below uses the devices that are left: Load to go on.")
            self.propose(lost.profile.path, lost.n_ctx, fill(note, ", ".join(lost.names)))

    def propose_better(self) -> None:
        model = self.services.model
        if model is not None:
            note = self.tr("A faster plan with the devices that joined.")
            self.propose(model.profile.path, model.n_ctx, note)

    def reload_models(self, select: str | None = None) -> None:
        spawn(
            self.services.on_disk(self.services.library.entries), self._error, lambda e: self._fill(e, select)
        )

    def _fill(self, entries: list[LibraryEntry], select: str | None) -> None:
        current = select or (self.profile.path if self.profile else None)
        self.entries = [e for e in entries if e.profile is not None]
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for e in self.entries:
            assert e.profile is not None
            self.model_box.addItem(e.profile.name or e.path.rsplit("/", 1)[-1], e.path)
        index = self.model_box.findData(current) if current else -1
        self.model_box.blockSignals(False)
        self.model_box.setCurrentIndex(max(index, 0) if self.entries else -1)
        self._model_chosen(self.model_box.currentIndex())
        proposal, self._proposal = self._proposal, None
        if proposal is not None and self.profile is not None and self.profile.path == proposal.path:
            steps = context_steps(self.profile.context_length or 4096)
            self.ctx_slider.blockSignals(True)
            self.ctx_slider.setValue(max(i for i, s in enumerate(steps) if s <= proposal.n_ctx or i == 0))
            self.ctx_slider.blockSignals(False)
            self.devices = self.services.planning_devices()
            self._rebuild_columns()
            self._note = proposal.note
            draft = proposal.draft
            if draft is not None and set(draft.devices) == {d.key for d in self.devices}:
                self._set_draft(draft)
            else:
                self.auto()

    def _model_chosen(self, index: int) -> None:
        profile = self.entries[index].profile if 0 <= index < len(self.entries) else None
        self.models_button.setVisible(profile is None)
        if profile is self.profile and profile is not None:
            return
        self.profile = profile
        self._note = ""
        if profile is None:
            self.card.setText(self.tr("No model yet: download or import one on the Models page."))
            self.strip.set_draft(None, [])
            return
        self.card.setText(
            f"<b>{escape(profile.name or profile.path)}</b> · {escape(profile.architecture)} · "
            f"{escape(params(profile.parameters))} · {escape(profile.dominant_type)} · "
            + escape(fill(self.tr("%1 layers"), profile.block_count))
            + f" · {escape(gib(profile.file_size))} · "
            + escape(fill(self.tr("context %1"), profile.context_length))
        )
        steps = context_steps(profile.context_length or 4096)
        self.ctx_slider.blockSignals(True)
        self.ctx_slider.setRange(0, len(steps) - 1)
        self.ctx_slider.setValue(max(i for i, s in enumerate(steps) if s <= 4096 or i == 0))
        self.ctx_slider.blockSignals(False)
        self.devices = self.services.planning_devices()
        self._rebuild_columns()
        self.auto()

    @property
    def n_ctx(self) -> int:
        steps = context_steps(self.profile.context_length if self.profile else 4096)
        return steps[min(self.ctx_slider.value(), len(steps) - 1)]

    def _ctx_changed(self) -> None:
        self.ctx_label.setText(str(self.n_ctx))
        self.update_prediction()

    # --- devices ---

    def refresh_devices(self) -> None:
        devices = self.services.planning_devices()
        changed = [d.key for d in devices] != [d.key for d in self.devices]
        self.devices = devices
        if changed and self.profile is not None:
            self._rebuild_columns()
            held = (
                {d for d, c in zip(self.draft.devices, self.draft.counts, strict=True) if c}
                if self.draft
                else set()
            )
            if held <= {d.key for d in devices} and self.draft is not None:
                self._set_draft(PlanDraft.from_plan(self.draft.plan(), [d.key for d in devices]))
            else:
                self.auto()
        else:
            self.update_prediction()

    def _rebuild_columns(self) -> None:
        for column in self.columns:
            column.deleteLater()
        self.columns = []
        for i, d in enumerate(self.devices):
            name = fill(self.tr("%1 (this device)"), d.name) if d.key == HOST else d.name
            column = DeviceColumn(i, name, colors.device_color(i))
            column.dropped.connect(self._dropped)
            self.columns_row.insertWidget(i, column)
            self.columns.append(column)

    # --- the plan ---

    def auto(self) -> None:
        if self.profile is None:
            return
        keys = [d.key for d in self.devices]
        try:
            prediction = self.services.auto_plan(self.profile, self.n_ctx)
            draft = PlanDraft.from_plan(prediction.plan, keys)
        except PlanError as exc:
            draft = PlanDraft(keys, [self.profile.block_count] + [0] * (len(keys) - 1))
            self.status.setText(describe(exc))
        self._set_draft(draft)

    def _set_draft(self, draft: PlanDraft) -> None:
        # Columns follow the devices' order; the draft may order the pipeline differently.
        self.draft = draft
        keys = [d.key for d in self.devices]
        palette = [colors.device_color(keys.index(k)) if k in keys else colors.SYSTEM for k in draft.devices]
        self.strip.set_draft(draft, palette)
        self.update_prediction()

    def _draft_edited(self) -> None:
        self.update_prediction()

    def _dropped(self, start: int, end: int, column: int) -> None:
        if self.draft is None or not 0 <= column < len(self.devices):
            return
        target = self.draft.devices.index(self.devices[column].key)
        try:
            self.draft.move_layers(start, min(end, self.draft.n_layers), target)
        except PlanError as exc:
            self.status.setText(describe(exc))
            return
        self.strip.update()
        self.update_prediction()

    def update_prediction(self) -> None:
        if self.profile is None or self.draft is None:
            self.load_button.setEnabled(False)
            return
        twin = self._gguf_twin() if self.profile.format == "mlx" and len(self.devices) > 1 else None
        self.twin_button.setVisible(twin is not None)
        if self.profile.format == "mlx" and len(self.devices) > 1 and not self._note:
            self._note = self.tr(
                "MLX models run on this Mac alone; to pool this model over your devices, use its GGUF."
            )
        self.ctx_label.setText(str(self.n_ctx))
        try:
            estimate = self.services.predict(self.profile, self.draft.plan(), self.n_ctx)
        except PlanError as exc:
            self.prediction = None
            self.status.setText(describe(exc))
            self.load_button.setEnabled(False)
            return
        # Sized at once when llama.cpp has seen this plan (the bars do not flicker back to the estimate
        # on every refresh), else shown as estimated until it has.
        self.prediction = self.services.sized_at_hand(self.profile, estimate, self.n_ctx)
        self._show(self.prediction)
        if self._sizing is not None:
            self._sizing.cancel()
        if not self.prediction.sized_by_llama:
            self._sizing = spawn(self._size(self.profile, estimate, self.n_ctx), None, self._sized)

    async def _size(
        self, profile: ModelProfile, prediction: Prediction, n_ctx: int
    ) -> tuple[Any, Prediction]:
        # A strip being dragged changes the plan many times a second: size the one it settles on.
        await asyncio.sleep(SIZE_AFTER_S)
        return (profile.path, prediction.plan, n_ctx), await self.services.sized(profile, prediction, n_ctx)

    def _sized(self, result: tuple[Any, Prediction]) -> None:
        key, sized = result
        if self.profile is None or self.draft is None or not sized.sized_by_llama:
            return
        if key == (self.profile.path, self.draft.plan(), self.n_ctx):
            self.prediction = sized
            self._show(sized)

    def _show(self, prediction: Prediction) -> None:
        placed = {p.device: p for p in prediction.placements}
        for column, d in zip(self.columns, self.devices, strict=False):
            p = placed.get(d.key)
            memory = p.memory if p else DeviceMemory(0, 0, 0)
            layers = (p.start, p.end - 1) if p and p.end > p.start else None
            overflow = prediction.over.get(d.key)
            over = self._overflow_text(overflow, d.name) if overflow else ""
            column.show_plan(layers, memory, d.memory_total, d.memory_free, d.usable, over)
        speed = fill(self.tr("predicted %1 tokens/s"), number(prediction.tokens_per_s))
        if prediction.sized_by_llama:
            speed += " · " + self.tr("memory as llama.cpp sizes it")
        self.speed.setText(speed)
        blocked = bool(prediction.over)
        self.load_button.setEnabled(not blocked and self._loading is None)
        self.load_button.setToolTip(self.tr("A device would run out of memory") if blocked else "")
        if blocked:
            names = {d.key: d.name for d in self.devices}
            self.status.setText(
                "; ".join(
                    self._overflow_text(o, names.get(o.device, o.device)) for o in prediction.over.values()
                )
            )
        elif not self.status.text().startswith(self.tr("Loaded")):
            self.status.setText(self._note)

    def _gguf_twin(self) -> LibraryEntry | None:
        """The library's GGUF of the MLX model chosen, matched by name without quantization marks."""
        if self.profile is None:
            return None
        want = same_model_key(self.profile.name or self.profile.path.rsplit("/", 1)[-1])
        return next(
            (
                e
                for e in self.entries
                if e.profile is not None
                and e.profile.format == "gguf"
                and same_model_key(e.profile.name) == want
            ),
            None,
        )

    def _use_twin(self) -> None:
        twin = self._gguf_twin()
        if twin is not None:
            self.model_box.setCurrentIndex(self.model_box.findData(twin.path))

    def _overflow_text(self, overflow: Overflow, name: str) -> str:
        return fill(
            self.tr("%1 would need %2 but has %3: over by %4"),
            name,
            gib(overflow.need),
            gib(overflow.cap),
            gib(overflow.excess),
        )

    def _named(self, text: str) -> str:
        for d in self.devices:
            text = text.replace(d.key, d.name)
        return text

    # --- loading ---

    def load(self) -> None:
        if self.profile is None or self.draft is None or self._loading is not None:
            return
        plan = self.draft.plan()
        self._note = ""
        self.load_button.setEnabled(False)
        self.cancel_button.show()
        self.status.setText(self.tr("Loading…"))
        self._loading = spawn(
            self.services.load(self.profile, plan, self.n_ctx, self._progress),
            self._load_failed,
            self._load_done,
        )

    def _progress(self, per_device: dict[str, float]) -> None:
        for column, d in zip(self.columns, self.devices, strict=False):
            column.set_progress(per_device.get(d.key))

    def _load_done(self, model: Any) -> None:
        self._finish_loading()
        self.status.setText(fill(self.tr("Loaded on %1"), ", ".join(model.devices)))
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self._finish_loading()
        self.status.setText(fill(self.tr("Could not load: %1"), self._named(self.services.explain(exc))))

    def _finish_loading(self) -> None:
        self._loading = None
        self.cancel_button.hide()
        for column in self.columns:
            column.set_progress(None)
        self.update_prediction()

    def cancel(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            self._finish_loading()
            self.status.setText(self.tr("Loading cancelled"))

    def _error(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))
