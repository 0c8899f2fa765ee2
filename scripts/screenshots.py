"""Render every page of the window in English, Russian, Chinese and Korean, light and dark; save PNGs.

    uv run python -m scripts.screenshots [--out docs/screenshots] [--scale 2] [--languages en ru]
                                         [--offscreen]

A real window on a virtual X screen (Xvfb, started here when there is no DISPLAY), grabbed from the
screen as a person would see it; ``--offscreen`` draws into memory instead. The other two nodes are real
``hearth node`` processes on 127.0.0.2 and 127.0.0.3, paired and donating; the model is loaded across all
three and answers one question; a second answer, with a code block and a table, is streamed into the
chat as the engine would (a model this small writes neither reliably). The Models page searches a hub
stand-in on 127.0.0.1 (nothing leaves the machine). Then the Devices page and the Planner once more,
with the desktop described as a PC with an RTX card (this machine has none). Files:
``PAGE-LANGUAGE-THEME.png`` and ``PAGE-gpu-LANGUAGE-THEME.png``, with ``@2x`` for ``--scale 2``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


LANGUAGES = ("en", "ru", "zh_CN", "ko")
THEMES = ("light", "dark")
PAGES = ("devices", "planner", "chat", "models", "settings")


async def main(out: Path, workdir: Path, suffix: str, languages: list[str]) -> None:
    from PySide6.QtWidgets import QApplication

    from harness.fake_hub import FakeHub
    from harness.nodes import NodeProcess
    from harness.real_model import smollm2
    from harness.windows import ask_greedily, close_window, open_window, pair_with, until
    from hearth.core.plan_edit import PlanDraft
    from hearth.models import synthetic
    from hearth.ui import i18n, theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    # A real model when the dev dependencies are there (its answers make sense), else a synthetic one.
    model = smollm2() or synthetic.ensure_model(workdir / "models", synthetic.TALKATIVE)
    hub = FakeHub().start()
    hub.add("hearth/demo-GGUF", {model.name: model.read_bytes()})
    os.environ["HF_ENDPOINT"] = hub.url
    donors = [
        NodeProcess(workdir / name, name, host, extra=["--donate", "--max-memory", memory])
        # Devices of different sizes, as a household has them.
        for name, host, memory in (("desktop", "127.0.0.2", "3G"), ("laptop", "127.0.0.3", "1G"))
    ]
    for d in donors:
        d.start()
    i18n.install(app, "en")
    theme.apply(app)
    services, window = await open_window(name="mac-mini")
    window.resize(1200, 760)
    try:
        await pair_with(services, donors)
        window.models.import_file(str(model))
        planner = window.planner
        await until(lambda: planner.profile is not None and len(planner.columns) == 3)
        keys = [d.key for d in planner.devices]
        assert planner.profile is not None
        n = planner.profile.block_count
        planner.plan.set_draft(PlanDraft(keys, [n - 2 * (n // 3), n // 3, n // 3]))
        planner._after()
        planner.load_button.click()
        await until(lambda: services.serving.loaded() is not None, timeout=60)
        chat = window.chat
        await until(lambda: chat.send_button.isEnabled())
        chat.system.setText("You are a helpful assistant.")
        await ask_greedily(chat, "What is the capital of France? Answer in one sentence.", 48, timeout=60)
        await stream_demo(chat)
        for language in languages:
            i18n.install(app, language)
            await asyncio.sleep(0.5)  # the change reaches the window as a posted event
            await until(lambda: not window._retranslating, what="the window in the new language")
            window.models.search("demo")
            await until(lambda: found(window.models.results), what="the hub's answer, its fit judged")
            first = window.models.results.topLevelItem(0)
            assert first is not None
            window.models.results.setCurrentItem(first)
            for choice in THEMES:
                theme.choose(choice)
                for row, page in enumerate(PAGES):
                    window.nav.setCurrentRow(row)
                    if page == "models":
                        window.models.tabs.setCurrentIndex(2)
                    await asyncio.sleep(0.4)  # a redraw, and a telemetry round for the bars
                    grab(window).save(str(out / f"{page}-{language}-{choice}{suffix}.png"))
        await services.serving.unload()
        await gpu_pages(window, out, suffix, languages)
    finally:
        i18n.install(app, "en")
        await close_window(services, window, tuple(donors))
        hub.stop()


async def gpu_pages(window: Any, out: Path, suffix: str, languages: list[str]) -> None:
    """The Devices page and the Planner as a household with a gaming PC sees them (``PAGE-gpu-…``):
    the desktop described as a PC with an RTX card that lends 6 GiB of it, and a plan over every pool.
    Nothing is loaded: the desktop's worker has no GPU to load onto here."""
    from PySide6.QtWidgets import QApplication

    from harness.described import donors_report_an_rtx
    from harness.windows import until
    from hearth.core.plan import HOST
    from hearth.core.plan_edit import PlanDraft
    from hearth.ui import i18n, theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    with donors_report_an_rtx({"desktop"}):
        cards = window.devices.cards
        await until(lambda: any(card.gpu_bars for card in cards.values()), what="the desktop's GPU bar")
        planner = window.planner
        window.nav.setCurrentRow(PAGES.index("planner"))
        planner.reload_models()
        await until(lambda: planner.draft is not None and len(planner.columns) == 4, what="four pools")
        assert planner.profile is not None
        keys = planner.draft.devices  # this device, the desktop's GPU and its CPU, the laptop
        n = planner.profile.block_count
        on_gpu = {key: n // 2 for key in keys if "/gpu" in key}
        counts = [on_gpu.get(key, n // 10) for key in keys]
        counts[keys.index(HOST)] += n - sum(counts)
        planner.plan.set_draft(PlanDraft(keys, counts))
        planner._after()
        for language in languages:
            i18n.install(app, language)
            await asyncio.sleep(0.5)
            await until(lambda: not window._retranslating, what="the window in the new language")
            for choice in THEMES:
                theme.choose(choice)
                for page in ("devices", "planner"):
                    window.nav.setCurrentRow(PAGES.index(page))
                    await asyncio.sleep(0.4)
                    grab(window).save(str(out / f"{page}-gpu-{language}-{choice}{suffix}.png"))


DEMO_QUESTION = "Write a Python function that counts words, and compare two ways in a table."
DEMO_ANSWER = [
    "Here is a small function:\n\n",
    "```python\nfrom collections import Counter\n\n",
    "def count_words(text: str) -> Counter[str]:\n",
    '    """How often each word appears."""\n',
    "    return Counter(text.lower().split())\n```\n\n",
    "| Way | Speed | Memory |\n|---|---|---|\n",
    "| `Counter` | fast | one dict |\n",
    "| a `for` loop | slower | one dict |\n\n",
    "- **Counter** is the usual choice.\n- A loop is easier to change.",
]


async def stream_demo(chat: Any) -> None:
    """A second answer, fed to the page piece by piece as the engine feeds it."""
    from harness.windows import until
    from hearth.ui.view.chat import Entry, Role

    done = chat.last_done
    chat.conversation.messages.append(Entry(Role.USER, DEMO_QUESTION))
    chat.conversation.regenerating()
    for piece in DEMO_ANSWER:
        chat._piece(piece)
        await until(lambda: not chat._render_timer.isActive(), what="the piece drawn")
    chat.conversation.done(done)
    chat.render_messages()


def found(results: Any) -> bool:
    return results.topLevelItemCount() == 1 and "…" not in results.topLevelItem(0).text(3)


def grab(window: Any) -> Any:
    """The window as the screen shows it (under X), or as it draws itself (offscreen)."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.platformName() == "xcb":
        screen = window.screen()
        return screen.grabWindow(window.winId())
    return window.grab()


def virtual_screen(scale: int = 1) -> subprocess.Popen[bytes] | None:
    """Start Xvfb on a free display when there is no screen to draw on, large enough for the window
    at ``scale``; None when one exists."""
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return None
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{1600 * scale}x{1000 * scale}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("Xvfb did not start: install it (Debian: apt install xvfb) or pass --offscreen")
        time.sleep(0.1)
    os.environ["DISPLAY"] = f":{number}"
    return proc


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2))
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    parser.add_argument("--offscreen", action="store_true", help="draw into memory, without a screen")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)  # before Qt starts: it reads it once
    xvfb = virtual_screen(args.scale)
    if xvfb is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    try:
        from harness.windows import run_on_qt

        suffix = "@2x" if args.scale == 2 else ""
        run_on_qt(lambda tmp: main(out, tmp, suffix, args.languages))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(run())
