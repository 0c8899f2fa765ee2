"""Tray, models and settings pages against the real node and files."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from PySide6.QtWidgets import QLabel

from harness.nodes import HEARTH, env_for
from harness.windows import close_window, open_window, run, until
from hearth.store.settings import Donation, load_donation


def test_tray_donate_toggle_changes_the_node(qtbot, loop) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            tray = window.tray
            assert tray.state == "idle" and not tray.donate_action.isChecked()
            tray.donate_action.trigger()
            await until(lambda: services._node.donation.enabled, what="donation on")
            assert services._node.donated_bytes > 0 and load_donation().enabled
            await until(lambda: tray.state == "donating", what="the donating icon")
            await until(lambda: window.settings.donate.isChecked(), what="the settings page to follow")
            tray.donate_action.trigger()
            await until(lambda: not services._node.donation.enabled, what="donation off")
            await until(lambda: tray.state == "idle")
            assert not load_donation().enabled

            # Without a tray (as here), closing a donating window quits, and says so first.
            assert not tray.available()
            services._node.donation = Donation(enabled=True)
            quits = []
            window.quit_requested.connect(lambda: quits.append(1))
            window.close()
            await until(lambda: window.no_tray_notice.isVisible(), what="the notice")
            assert "no tray" in window.no_tray_notice.text() and not quits
            window.no_tray_notice.accept()
            await until(lambda: quits == [1], what="quit after the notice")
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_import_explains_rejects(qtbot, loop, tiny_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 64)
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")

    async def scenario() -> None:
        services, window = await open_window()
        try:
            page = window.models

            def refused(path: Path) -> bool:
                return "was not imported" in page.status.text() and str(path) in page.status.text()

            for bad in (broken, text, tmp_path / "missing.gguf"):
                page.import_file(str(bad))
                await until(functools.partial(refused, bad), what=f"{bad.name} refused")
            assert await services.models.entries() == []
            page.import_file(str(tiny_model))
            await until(lambda: page.list.count() == 1, what="the model listed")
            assert "8 layers" in page.list.item(0).text()
            await until(lambda: window.planner.model_box.count() == 1, what="the planner offers it")
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_translation_sources_are_current() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "scripts/translations.py", "--check"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_pairing_request_shows_the_code(qtbot, loop, donor) -> None:
    async def scenario() -> None:
        services, window = await open_window()
        try:
            # The other device asks this one, from its terminal.
            proc = await asyncio.create_subprocess_exec(
                *HEARTH,
                "pair",
                f"127.0.0.1:{services._node.port}",
                env=env_for(donor.home),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await until(lambda: window.code_dialogs, what="the code dialog")
            dialog = next(iter(window.code_dialogs.values()))
            label = dialog.findChild(QLabel)
            assert dialog.isVisible() and label is not None and "beta" in label.text()
            code = dialog.code.text()
            assert len(code) == 7 and code.replace(" ", "").isdigit()
            _, err = await proc.communicate(code.encode() + b"\n")
            assert proc.returncode == 0, err.decode()
            assert services._node.trust.find("beta") is not None
            # The code has done its work: the dialog closes and the window says who paired.
            await until(lambda: not dialog.isVisible() and not window.code_dialogs, what="the dialog closed")
            assert window.statusBar().currentMessage() == "Paired with beta."
            # The guide no longer asks for another device: one is there.
            assert window.welcome.add_button.isHidden()
            assert "Paired with beta" in window.welcome.text.text()
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_translation_check_names_what_is_missing(tmp_path: Path) -> None:
    from scripts.translations import problems

    ts = tmp_path / "hearth_xx.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?><TS version="2.1" language="xx"><context><name>C</name>'
        "<message><source>Done</source><translation>Fait</translation></message>"
        '<message><source>Send</source><translation type="unfinished"></translation></message>'
        '<message><source>Old</source><translation type="obsolete">Vieux</translation></message>'
        '<message numerus="yes"><source>%n files</source><translation><numerusform></numerusform>'
        "</translation></message>"
        "<message><source>Blank</source><translation></translation></message>"
        "</context></TS>",
        encoding="utf-8",
    )
    assert problems(ts) == [
        "unfinished: 'Send'",
        "obsolete: 'Old'",
        "unfinished plural: '%n files'",
        "empty: 'Blank'",
    ]


def test_the_theme_follows_the_choice_in_settings(qtbot, qapp, loop) -> None:
    from PySide6.QtCore import SIGNAL
    from PySide6.QtGui import QPalette

    from hearth.ui import theme

    style, palette = qapp.style().name(), qapp.palette()

    async def scenario() -> None:
        services, window = await open_window()
        try:
            box = window.settings.theme
            for choice, dark in (("dark", True), ("light", False), ("dark", True)):
                box.setCurrentIndex(box.findData(choice))
                await asyncio.sleep(0.05)
                lightness = qapp.palette().color(QPalette.ColorRole.Window).lightness()
                assert (lightness < 128) is dark and qapp.style().name() == "fusion"
                assert not window.nav.item(0).icon().isNull()
            assert theme.chosen() == "dark"
            # Redrawing the icons for a new palette does not wire the pages a second time.
            assert window.planner.receivers(SIGNAL("loaded()")) == 1
            assert window.models.receivers(SIGNAL("changed(QString)")) == 1
        finally:
            await close_window(services, window)

    try:
        run(loop, scenario())
    finally:
        qapp.setStyle(style)
        qapp.setPalette(palette)
