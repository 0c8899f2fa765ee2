"""Render every page of the window with a local pool of three nodes and a synthetic model; save PNGs.

    uv run python scripts/screenshots.py [--out docs/screenshots]

The other two nodes are real ``hearth node`` processes on 127.0.0.2 and 127.0.0.3, paired and donating;
the model is loaded across all three and answers one question. The Models page searches a hub stand-in
on 127.0.0.1 (nothing leaves the machine). Runs offscreen (or under Xvfb).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


async def main(out: Path, workdir: Path) -> None:
    from harness.fake_hub import FakeHub
    from harness.nodes import NodeProcess
    from harness.windows import close_window, open_window, pair_with, until
    from hearth.core.plan_edit import PlanDraft
    from hearth.models import synthetic

    model = synthetic.ensure_model(workdir / "models", synthetic.TALKATIVE)
    hub = FakeHub().start()
    hub.add("hearth/talkative-demo-GGUF", {"talkative-demo-Q8_0.gguf": model.read_bytes()})
    os.environ["HF_ENDPOINT"] = hub.url
    donors = [
        NodeProcess(workdir / name, name, host, extra=["--donate", "--max-memory", "2G"])
        for name, host in (("desktop", "127.0.0.2"), ("laptop", "127.0.0.3"))
    ]
    for d in donors:
        d.start()
    services, window = await open_window(name="mac-mini")
    window.resize(1200, 760)
    try:
        await pair_with(services, donors)
        window.models.import_file(str(model))
        planner = window.planner
        await until(lambda: planner.profile is not None and len(planner.columns) == 3)
        keys = [d.key for d in planner.devices]
        planner._set_draft(PlanDraft(keys, [3, 3, 2]))
        planner.strip.selection = (3, 5)
        await asyncio.sleep(1.5)  # a telemetry round for every bar
        shots = {"devices": 0, "planner": 1}
        for name, row in shots.items():
            window.nav.setCurrentRow(row)
            await asyncio.sleep(0.3)
            window.grab().save(str(out / f"{name}.png"))
        planner.load_button.click()
        await until(lambda: services.model is not None)
        chat = window.chat
        await until(lambda: chat.send_button.isEnabled())
        chat.system.setText("You are a helpful assistant.")
        chat.temperature.setValue(0.0)
        chat.max_tokens.setValue(48)
        chat.send("Which devices are answering me?")
        await until(lambda: chat.turn is None)
        for name, row in (("chat", 2), ("settings", 4)):
            window.nav.setCurrentRow(row)
            await asyncio.sleep(0.3)
            window.grab().save(str(out / f"{name}.png"))
        window.nav.setCurrentRow(3)
        window.models.tabs.setCurrentIndex(2)
        window.models.search("demo")
        results = window.models.results
        await until(lambda: results.topLevelItemCount() == 1 and "…" not in results.topLevelItem(0).text(3))
        results.setCurrentItem(results.topLevelItem(0))
        await asyncio.sleep(0.3)
        window.grab().save(str(out / "models.png"))
    finally:
        await close_window(services, window, tuple(donors))
        hub.stop()


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from harness.windows import run_on_qt

    run_on_qt(lambda tmp: main(out, tmp))
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(run())
