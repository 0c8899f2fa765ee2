"""A list of models on the hub (catalog entries or search results) with whether each fits.

Rows appear at once; each one's fit is worked out in the background from the model's header (a few
Range requests, remembered), so a slow hub never freezes the list.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from hearth.core.fill import fill
from hearth.service.fit import Fit, Verdict
from hearth.service.models import HubUnreachable, RemoteModel
from hearth.service.root import Hearth
from hearth.ui.memory_bar import gib, number
from hearth.ui.plain import tip
from hearth.ui.tasks import describe, spawn

MODEL_ROLE = Qt.ItemDataRole.UserRole
# Headers are read a couple at a time, so opening the catalog does not flood a household's link.
_HEADER_READS = 2


class HubList(QTreeWidget):
    """Models with their size and fit; ``chosen`` carries the selected one."""

    chosen = Signal(object)  # RemoteModel | None

    def __init__(self, services: Hearth, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setColumnCount(4)
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 380)
        self.itemSelectionChanged.connect(lambda: self.chosen.emit(self.selected()))
        self._reads: asyncio.Semaphore | None = None
        self.retranslate()

    def _fit_text(self, fit: Fit) -> str:
        if fit.verdict is Verdict.ALONE:
            text = self.tr("fits this device")
        elif fit.verdict is Verdict.POOLED:
            text = self.tr("fits with your paired devices (%n devices)", "", fit.devices)
        else:
            return self.tr("too large")
        speed = fill(self.tr("about %1 tokens/s"), number(fit.tokens_per_s))
        return f"{text} · {speed}"

    def retranslate(self) -> None:
        self.setHeaderLabels([self.tr("Model"), self.tr("Quantization"), self.tr("Size"), self.tr("Fits")])

    def selected(self) -> RemoteModel | None:
        items = self.selectedItems()
        return items[0].data(0, MODEL_ROLE) if items else None

    def add(self, title: str, model: RemoteModel, tooltip: str = "") -> QTreeWidgetItem:
        item = QTreeWidgetItem([title, model.quant, gib(model.size), self.tr("checking…")])
        item.setData(0, MODEL_ROLE, model)
        item.setToolTip(0, tip(tooltip or f"{model.repo}/{model.name}"))
        self.addTopLevelItem(item)
        self._judge(item, model)
        return item

    def add_failed(self, title: str, why: str) -> None:
        item = QTreeWidgetItem([title, "", "", why])
        item.setToolTip(3, tip(why))
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        self.addTopLevelItem(item)

    def _judge(self, item: QTreeWidgetItem, model: RemoteModel) -> None:
        if self._reads is None:
            self._reads = asyncio.Semaphore(_HEADER_READS)
        reads = self._reads

        async def judge() -> str:
            async with reads:
                if _deleted(item):
                    return ""
                profile = await self.services.models.remote_profile(model)
            return self._fit_text(self.services.plans.fit(profile))

        def put(text: str, detail: str = "") -> None:
            if not _deleted(item):
                item.setText(3, text)
                item.setToolTip(3, tip(detail or text))

        def failed(exc: BaseException) -> None:
            if isinstance(exc, HubUnreachable):
                put(self.tr("unknown: the hub cannot be reached"), describe(exc))
            else:
                put(fill(self.tr("unknown: %1"), describe(exc)))

        spawn(judge(), failed, put)


def _deleted(item: QTreeWidgetItem) -> bool:
    try:
        return item.treeWidget() is None
    except RuntimeError:  # the C++ item went with a cleared list
        return True
