"""The Models page against the hub stand-in: first run, search, download with progress, pause and
resume, cancel, and the model reaching the Planner."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.windows import close_window, open_window, run, until
from hearth.service.downloads import State
from hearth.store import paths

REPO = "test/tiny-GGUF"


def _row(tree, text: str):
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if text in item.text(0):
            return item
    return None


def test_first_run_search_download_pause_resume_cancel(qtbot, loop, fake_hub) -> None:
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]

    async def scenario() -> None:
        services, window = await open_window()
        try:
            page = window.models
            # An empty library opens the window on the Models page, on the catalog.
            await until(lambda: window.stack.currentWidget() is page, what="the Models page")
            assert page.tabs.currentIndex() == 1 and page.catalog.topLevelItemCount() > 10
            assert window.welcome.isVisible() and "Welcome to Hearth" in window.welcome.title.text()
            # The catalog's repositories are not on the stand-in: each row says why it cannot judge.
            await until(
                lambda: (first := page.catalog.topLevelItem(0)) is not None and "unknown" in first.text(3),
                what="the catalog's first verdict",
            )

            page.tabs.setCurrentIndex(2)
            page.search("tiny")
            await until(lambda: page.results.topLevelItemCount() == 2, what="two model files found")
            await until(lambda: page.status.text() == "2 model files found", what="the count, plural-correct")
            row = _row(page.results, "Tiny-Q8_0.gguf")
            assert row is not None and row.text(1) == "Q8_0"
            await until(lambda: row.text(3).startswith("fits this device"), what="the fit of Q8_0")

            fake_hub.bytes_per_s = len(data) / 3.0
            before = fake_hub.sent["Tiny-Q8_0.gguf"]  # what reading its header took
            page.results.setCurrentItem(row)
            assert page.result_download.isEnabled()
            page.result_download.click()
            await until(lambda: page.tabs.currentWidget() is page.downloads, what="the Downloads tab")
            key = f"{REPO}/Tiny-Q8_0.gguf"
            line = page.downloads.rows[key]
            await until(lambda: line.isVisible() and line.bar.isVisible(), what="a progress bar")
            await until(lambda: line.bar.value() > 100, what="progress shown")
            assert " of " in line.detail.text() and "left" in line.detail.text()
            line.pause.click()
            await until(lambda: services.models.downloads()[key].state is State.PAUSED, what="paused")
            await until(lambda: "Paused at" in line.detail.text() and line.pause.text() == "Resume")
            paused_at = line.bar.value()
            assert 0 < paused_at < 1000
            fake_hub.bytes_per_s = 0
            line.pause.click()  # Resume
            await until(
                lambda: services.models.downloads()[key].state is State.DONE, what="the download done"
            )
            assert fake_hub.sent["Tiny-Q8_0.gguf"] - before < len(data) * 1.10  # resumed, not started over
            await until(lambda: line.bar.value() == 1000 and "Done" in line.detail.text())
            # The new model is in the library and in the Planner's list.
            await until(lambda: window.planner.model_box.count() == 1, what="the Planner offers it")
            await until(lambda: page.list.count() == 1, what="the library lists it")
            offered = Path(window.planner.model_box.currentData())
            assert await asyncio.to_thread(offered.read_bytes) == data
            # The status line says it is done, and the next step is a button away.
            await until(lambda: page.status.text().startswith("Downloaded Tiny-Q8_0.gguf"), what="done said")
            assert "Downloading" not in page.status.text()
            assert line.plan.isVisible() and not line.pause.isVisible()
            line.plan.click()
            await until(lambda: window.stack.currentWidget() is window.planner, what="the Planner")
            assert window.planner.model_box.currentData() == str(offered)

            # A download cancelled half way leaves nothing behind.
            page.tabs.setCurrentIndex(2)
            split = _row(page.results, "Tiny-Q4_K_M-00001-of-00002.gguf")
            fake_hub.bytes_per_s = 100_000.0
            page.results.setCurrentItem(split)
            page.result_download.click()
            split_key = f"{REPO}/Tiny-Q4_K_M-00001-of-00002.gguf"
            await until(lambda: split_key in page.downloads.rows, what="the second download listed")
            await until(lambda: page.downloads.rows[split_key].bar.value() > 0, what="some progress")
            page.downloads.rows[split_key].cancel.click()
            await until(lambda: split_key not in services.models.downloads(), what="the download gone")
            await until(lambda: split_key not in page.downloads.rows, what="its row gone")
            left = sorted(p.name for p in paths.models_dir().rglob("*") if p.is_file())
            assert left == ["Tiny-Q8_0.gguf"]
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=90)
