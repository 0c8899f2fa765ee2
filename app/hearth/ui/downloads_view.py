"""Downloads under way, paused or failed: a progress bar each, with bytes, speed and time left, and
Pause / Resume / Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.service.downloads import DownloadJob, State
from hearth.service.root import Hearth
from hearth.ui.memory_bar import gib
from hearth.ui.plain import plain_label
from hearth.ui.tasks import spawn


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class DownloadRow(QWidget):
    plan_requested = Signal(str)  # the downloaded model, to plan and chat with

    def __init__(self, services: Hearth, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.key = key
        self.title = plain_label()  # the hub's repository and file names
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.detail = plain_label()  # or the error, quoting them
        self.detail.setWordWrap(True)
        self.pause = QPushButton()
        self.cancel = QPushButton(self.tr("Cancel"))
        self.pause.clicked.connect(self._pause_or_resume)
        self.cancel.clicked.connect(lambda: spawn(self.services.models.cancel_download(self.key)))
        self.plan = QPushButton(self.tr("Plan and chat"))
        self.plan.setToolTip(self.tr("Open the Planner with this model"))
        self.plan.clicked.connect(lambda: self.plan_requested.emit(self.job.path))
        self.plan.hide()
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.pause)
        top.addWidget(self.cancel)
        top.addWidget(self.plan)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)

    def show_job(self, job: DownloadJob) -> None:
        self.job = job
        self.title.setText(f"{job.model.repo} · {job.model.name}")
        p = job.progress
        done, total = (p.done, p.total) if p else (0, job.model.size)
        self.bar.setValue(int(1000 * done / total) if total else 0)
        amounts = fill(self.tr("%1 of %2"), gib(done), gib(total))
        if job.state is State.RUNNING:
            parts = [amounts]
            if p and p.bytes_per_s > 0:
                parts.append(fill(self.tr("%1/s"), gib(p.bytes_per_s)))
            if p and p.seconds_left is not None:
                parts.append(fill(self.tr("%1 left"), duration(p.seconds_left)))
            text = " · ".join(parts)
        elif job.state is State.PAUSED:
            text = fill(self.tr("Paused at %1"), amounts)
        elif job.state is State.FAILED:
            text = fill(self.tr("Stopped: %1"), job.error)
        else:
            text = fill(self.tr("Done: %1"), job.path)
        self.detail.setText(text)
        self.pause.setText(self.tr("Pause") if job.state is State.RUNNING else self.tr("Resume"))
        self.pause.setVisible(job.state is not State.DONE)
        self.cancel.setVisible(job.state is not State.DONE)
        self.plan.setVisible(job.state is State.DONE and bool(job.path))

    def _pause_or_resume(self) -> None:
        if self.job.state is State.RUNNING:
            spawn(self.services.models.pause_download(self.key))
        else:
            self.services.models.resume_download(self.key)


class DownloadsView(QWidget):
    plan_requested = Signal(str)

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.rows: dict[str, DownloadRow] = {}
        self.empty = QLabel(self.tr("No downloads. Pick a model from the catalog or a hub search."))
        self.empty.setWordWrap(True)
        self.column = QVBoxLayout(self)
        self.column.addWidget(self.empty)
        self.column.addStretch(1)

    def refresh(self) -> None:
        jobs = self.services.models.downloads()
        for key in [k for k in self.rows if k not in jobs]:
            self.rows.pop(key).deleteLater()
        for key, job in jobs.items():
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = DownloadRow(self.services, key)
                row.plan_requested.connect(self.plan_requested.emit)
                self.column.insertWidget(self.column.count() - 1, row)
            row.show_job(job)
        self.empty.setVisible(not jobs)
