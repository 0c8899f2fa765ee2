"""Models: what is on this device, the catalog, a hub search, and the downloads under way.

Every row of the catalog and the search says whether the model fits this device, the household's
paired devices together, or neither, as the planner would place it now.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hearth.core.fill import fill
from hearth.core.names import model_display_name
from hearth.core.profile import ModelProfile
from hearth.service.downloads import State
from hearth.service.models import CatalogModel, HubRepo, LibraryEntry, RemoteModel
from hearth.service.root import Hearth
from hearth.ui import i18n
from hearth.ui.downloads_view import DownloadsView
from hearth.ui.hub_list import HubList
from hearth.ui.memory_bar import gib, number, params
from hearth.ui.plain import confirm, escape, plain_label, tip
from hearth.ui.tasks import describe, spawn

# Hub repositories whose files a search lists.
SEARCH_REPOS = 10


class ModelsPage(QWidget):
    changed = Signal(str)  # a model was imported or downloaded: its path
    plan_requested = Signal(str)  # the user wants to plan (and then chat with) this model
    library_empty = Signal()  # the first look at the library found nothing
    has_models = Signal()  # a look at the library found at least one model

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.entries: list[LibraryEntry] = []
        self.catalog_rows: dict[int, CatalogModel] = {}
        self.status = plain_label()  # file names, hub names and errors that quote them
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Models"))
        self.tabs.addTab(self._library_tab(), self.tr("On this device"))
        self.tabs.addTab(self._catalog_tab(), self.tr("Catalog"))
        self.tabs.addTab(self._search_tab(), self.tr("Search the hub"))
        self.downloads = DownloadsView(services)
        self.downloads.plan_requested.connect(self.plan_requested.emit)
        self.downloading = ""  # the download the status line speaks of, until it ends
        self.tabs.addTab(self.downloads, self.tr("Downloads"))
        self.tabs.currentChanged.connect(self._tab_shown)
        self._first_fill = True
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

    def _tab_shown(self, index: int) -> None:
        if index == 1:
            self.fill_catalog()

    # --- the library ---

    def _library_tab(self) -> QWidget:
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Models on this device"))
        self.list.currentRowChanged.connect(self._show_card)
        self.card = QLabel()  # rich on purpose: every value in it is escaped
        self.card.setWordWrap(True)
        import_button = QPushButton(self.tr("Import a .gguf file…"))
        import_button.clicked.connect(lambda: self.import_file())
        import_folder = QPushButton(self.tr("Import an MLX folder…"))
        import_folder.setToolTip(
            self.tr("A folder with config.json and .safetensors weights (mlx-lm's format)")
        )
        import_folder.clicked.connect(self.import_folder)
        self.plan_button = QPushButton(self.tr("Plan and chat"))
        self.plan_button.clicked.connect(self._plan)
        self.folder_button = QPushButton(self.tr("Show in folder"))
        self.folder_button.clicked.connect(self._show_in_folder)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.clicked.connect(self._delete)
        self.library_hint = QLabel()
        self.library_hint.setWordWrap(True)
        actions = QHBoxLayout()
        for button in (self.plan_button, self.folder_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(import_button)
        actions.addWidget(import_folder)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.library_hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.card)
        layout.addLayout(actions)
        return tab

    def reload(self) -> None:
        spawn(self.services.models.entries(), self._error, self._fill)

    def _fill(self, entries: list[LibraryEntry]) -> None:
        self.entries = entries
        self.list.clear()
        for e in entries:
            if e.profile is None:
                text = fill(self.tr("%1 — cannot be used: %2"), e.path, e.problem)
            elif e.profile.embedding_only:
                note = self.tr("embedding model")
                text = f"{self.summary(e.profile)} — {note}"
            elif e.profile.has_chat_template:
                text = self.summary(e.profile)
            else:
                note = self.tr("continues text; not tuned for chat")
                text = f"{self.summary(e.profile)} — {note}"
            self.list.addItem(text)
            self.list.item(self.list.count() - 1).setToolTip(tip(e.path))
        empty = not entries
        self.library_hint.setText(
            self.tr("No models on this device yet. The Catalog tab suggests models that fit your devices.")
            if empty
            else ""
        )
        self.library_hint.setVisible(empty)
        self._show_card(self.list.currentRow())
        if self._first_fill and empty:
            self.library_empty.emit()
        if not empty:
            self.has_models.emit()
        self._first_fill = False

    def _entry(self) -> LibraryEntry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _show_card(self, _: int = -1) -> None:
        entry = self._entry()
        for button in (self.plan_button, self.folder_button, self.delete_button):
            button.setEnabled(entry is not None)
        self.plan_button.setEnabled(entry is not None and entry.profile is not None)
        if entry is None or entry.profile is None:
            self.card.setText("")
            return
        p = entry.profile
        yes, no = self.tr("yes"), self.tr("no: continues text; not tuned for chat")
        rows = [
            (self.tr("Architecture"), p.architecture),
            (self.tr("Parameters"), params(p.parameters)),
            (self.tr("Size"), gib(p.file_size)),
            (self.tr("Quantization"), p.dominant_type),
            (self.tr("Layers"), str(p.block_count)),
        ]
        if p.expert_count:
            experts = fill(self.tr("%1 a layer, %2 for each token"), p.expert_count, p.expert_used_count)
            rows.append((self.tr("Experts"), experts))
        rows += [
            (self.tr("Context length"), str(p.context_length)),
            (self.tr("Licence"), p.license or self.tr("not stated in the file")),
            (self.tr("Chat template"), yes if p.has_chat_template else no),
            (self.tr("File"), entry.path),
        ]
        # The metadata is the file's own (its licence, architecture, name): escaped, never markup.
        self.card.setText("<br>".join(f"<b>{escape(k)}</b>: {escape(v)}" for k, v in rows))

    def _plan(self) -> None:
        entry = self._entry()
        if entry is not None:
            self.plan_requested.emit(entry.path)

    def _show_in_folder(self) -> None:
        entry = self._entry()
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(entry.path)))

    def _delete(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        question = fill(self.tr("Delete %1 from this device?"), Path(entry.path).name)
        if not confirm(self, self.tr("Delete model"), question):
            return
        self.delete(entry.path)

    def delete(self, path: str) -> None:
        def deleted(_: object) -> None:
            self.status.setText(fill(self.tr("Deleted %1"), path))
            self.changed.emit("")

        spawn(self.services.models.delete(path), self._error, deleted)

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Import an MLX model folder"))
        if folder:
            self.import_file(folder)

    def import_file(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, self.tr("Import a model"), "", self.tr("GGUF models (*.gguf);;All files (*)")
            )
            if not path:
                return
        self.status.setText(fill(self.tr("Checking %1…"), path))
        spawn(
            self.services.models.import_file(path),
            lambda exc: self.status.setText(fill(self.tr("%1 was not imported: %2"), path, describe(exc))),
            lambda profile: self._imported(profile),
        )

    def _imported(self, profile: ModelProfile) -> None:
        self.status.setText(fill(self.tr("Imported %1"), self.summary(profile)))
        self.reload()
        self.changed.emit(profile.path)

    # --- the catalog ---

    def _catalog_tab(self) -> QWidget:
        self.catalog = HubList(self.services)
        self.catalog.setAccessibleName(self.tr("Catalog"))
        self.catalog_note = plain_label()  # or why the catalog could not be read
        self.catalog_note.setWordWrap(True)
        self.catalog_download = download = QPushButton(self.tr("Download"))
        download.clicked.connect(self._download_from_catalog)
        self.catalog.chosen.connect(lambda m: download.setEnabled(m is not None))
        download.setEnabled(False)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(self.catalog_note)
        layout.addWidget(self.catalog, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(download)
        layout.addLayout(row)
        return tab

    def fill_catalog(self) -> None:
        """Show the catalog (once per start: fits are judged over the devices seen then)."""
        if self.catalog.topLevelItemCount():
            return
        try:
            catalog = self.services.models.catalog()
        except Exception as exc:
            self.catalog_note.setText(describe(exc))
            return
        self.catalog_note.setText(
            self.tr(
                "Instruct models from small to 70B class. Each says whether it fits this device, "
                "your paired devices together, or neither."
            )
        )
        for entry in catalog:
            for file in entry.files:
                about = f"{self.catalog_facts(entry)} — {entry.summary_in(i18n.active())}"
                item = self.catalog.add(self.catalog_title(entry), entry.remote(file.quant), about)
                self.catalog_rows[id(item)] = entry

    def catalog_title(self, entry: CatalogModel) -> str:
        """An entry's name with the marks that set it apart in the list: experts, embeddings, pooling."""
        marks = [self.tr("MoE")] if entry.experts else []
        if entry.embedding:
            marks.append(self.tr("embedding model"))
        if entry.suits_pooling:
            marks.append(self.tr("pools well"))
        return " · ".join([entry.name, *marks])

    def catalog_facts(self, entry: CatalogModel) -> str:
        """What a catalog entry is, beside its summary: experts, tools, pooling, licence, context."""
        facts = []
        if entry.experts:
            facts.append(
                fill(self.tr("mixture of experts: %1 B read a token"), number(entry.active_parameters_b))
            )
        if entry.tools:
            facts.append(self.tr("calls tools"))
        if entry.suits_pooling:
            facts.append(self.tr("suits pooling"))
        facts.append(fill(self.tr("licence %1"), entry.license))
        facts.append(fill(self.tr("context %1"), entry.context))
        return " · ".join(facts)

    def _download_from_catalog(self) -> None:
        items = self.catalog.selectedItems()
        if not items:
            return
        entry = self.catalog_rows[id(items[0])]
        quant = items[0].text(1)
        self.status.setText(fill(self.tr("Asking the hub for %1…"), entry.name))
        spawn(self.services.models.catalog_model(entry, quant), self._error, self.download)

    def summary(self, profile: ModelProfile) -> str:
        layers = self.tr("%n layers", "", profile.block_count)
        return (
            f"{model_display_name(profile.path, profile.name)} — {profile.architecture}, "
            f"{params(profile.parameters)}, {profile.dominant_type}, {layers}, {gib(profile.file_size)}"
        )

    def seen_library(self) -> None:
        """The first look at the library has been taken (by an earlier copy of this page)."""
        self._first_fill = False

    def show_first_run(self) -> None:
        """An empty library: open on the catalog with a word on where to start."""
        self.tabs.setCurrentIndex(1)
        self.fill_catalog()
        self.catalog_note.setText(
            self.tr(
                'Welcome to Hearth. Start with a model: those marked "fits this device" run here '
                "alone, the others need your paired devices. Small ones download in minutes."
            )
        )

    # --- the hub ---

    def _search_tab(self) -> QWidget:
        self.query = QLineEdit()
        self.query.setPlaceholderText(self.tr('Search GGUF models on Hugging Face, e.g. "qwen 7b"'))
        self.query.setAccessibleName(self.tr("Search text"))
        self.query.returnPressed.connect(lambda: self.search())
        search = QPushButton(self.tr("Search"))
        search.clicked.connect(lambda: self.search())
        self.results = HubList(self.services)
        self.results.setAccessibleName(self.tr("Search results"))
        self.result_download = download = QPushButton(self.tr("Download"))
        download.setEnabled(False)
        self.results.chosen.connect(lambda m: download.setEnabled(m is not None))
        download.clicked.connect(lambda: self._download_selected(self.results))
        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(search)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(download)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addLayout(row)
        return tab

    def search(self, text: str | None = None) -> None:
        text = self.query.text().strip() if text is None else text
        self.query.setText(text)
        self.results.clear()
        self.status.setText(fill(self.tr("Searching the hub for %1…"), text))

        async def find() -> list[tuple[HubRepo, list[RemoteModel] | str]]:
            found: list[tuple[HubRepo, list[RemoteModel] | str]] = []
            for repo in await self.services.models.search_hub(text, SEARCH_REPOS):
                try:
                    found.append((repo, await self.services.models.hub_models(repo.repo)))
                except Exception as exc:  # one repository that fails does not hide the others
                    found.append((repo, describe(exc)))
            return found

        spawn(find(), self._error, self._show_results)

    def _show_results(self, found: list[tuple[HubRepo, list[RemoteModel] | str]]) -> None:
        count = 0
        for repo, models in found:
            if isinstance(models, str):
                self.results.add_failed(repo.repo, models)
                continue
            for model in models:
                self.results.add(f"{repo.repo} · {model.name}", model)
                count += 1
        # Two sentences, so that English (which has no catalog of its own) says "1 model file".
        if count == 1:
            self.status.setText(self.tr("%n model file found", "", count))
        else:
            self.status.setText(self.tr("%n model files found", "", count))

    def _download_selected(self, source: HubList) -> None:
        model = source.selected()
        if model is not None:
            self.download(model)

    # --- downloads ---

    def download(self, model: RemoteModel) -> None:
        self.downloading = self.services.models.download(model).key
        self.status.setText(fill(self.tr("Downloading %1"), model.name))
        self.tabs.setCurrentWidget(self.downloads)
        self.downloads.refresh()

    def downloads_changed(self) -> None:
        self.downloads.refresh()
        job = self.services.models.downloads().get(self.downloading)
        if job is None:
            return
        if job.state is State.DONE:
            self.status.setText(
                fill(
                    self.tr("Downloaded %1. Next: Plan and chat, beside it on the Downloads tab."),
                    job.model.name,
                )
            )
            self.downloading = ""
        elif job.state is State.FAILED:
            self.status.setText(fill(self.tr("%1 stopped: %2"), job.model.name, job.error))
            self.downloading = ""

    def _error(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))
