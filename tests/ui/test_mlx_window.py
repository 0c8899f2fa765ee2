"""The window loads an MLX model and chats with it (Linux with mlx[cpu]); the Planner keeps it on this
device and says why when other devices are in sight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.windows import ask_greedily, close_window, open_window, pair_with, run, until
from hearth.core.plan import HOST
from hearth.models import synthetic_mlx

pytest.importorskip("mlx.core", reason="MLX is not installed here")
pytest.importorskip("mlx_lm", reason="mlx-lm is not installed here")


def test_load_and_chat_with_an_mlx_model(qtbot, loop, donor, tmp_path: Path) -> None:
    folder = synthetic_mlx.write_model(tmp_path / "tiny-mlx")

    async def scenario() -> None:
        services, window = await open_window()
        try:
            await pair_with(services, [donor])
            window.models.import_file(str(folder))
            await until(lambda: window.models.list.count() == 1, what="the MLX model listed")
            planner = window.planner
            await until(lambda: planner.profile is not None and len(planner.columns) == 2, what="the planner")
            assert planner.profile is not None and planner.profile.format == "mlx"
            assert planner.draft is not None and str(planner.draft.plan()) == f"{HOST}:0-1"
            assert "MLX" in planner.status.text() and "GGUF" in planner.status.text()
            assert planner.twin_button.isHidden()  # the library holds no GGUF of this model
            planner.load_button.click()
            await until(
                lambda: services.serving.loaded() is not None, timeout=60, what="the MLX model loaded"
            )
            loaded = services.serving.loaded()
            assert loaded is not None and list(loaded.devices) == ["alpha"]
            chat = window.chat
            await until(lambda: chat.send_button.isEnabled(), what="the chat ready")
            await ask_greedily(chat, "w1 w2 w3", timeout=60)
            answer = chat.conversation.messages[-1]
            assert answer.role == "assistant" and answer.text.strip() and answer.status == "done"
            assert "tokens/s" in chat.stats.text()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=120)


def test_the_planner_offers_the_gguf_of_the_same_model(
    qtbot, loop, donor, tiny_model: Path, tmp_path: Path
) -> None:
    folder = synthetic_mlx.write_model(tmp_path / "tiny-mlx")
    config = json.loads((folder / "config.json").read_text())
    config["_name_or_path"] = (
        "hearth-synthetic-tiny-4bit"  # the MLX build of the tiny GGUF, as hubs name them
    )
    (folder / "config.json").write_text(json.dumps(config))

    async def scenario() -> None:
        services, window = await open_window()
        try:
            await pair_with(services, [donor])
            window.models.import_file(str(tiny_model))
            window.models.import_file(str(folder))
            planner = window.planner
            await until(lambda: planner.model_box.count() == 2, what="both builds in the planner")
            planner.model_box.setCurrentIndex(planner.model_box.findData(str(folder)))
            await until(lambda: not planner.twin_button.isHidden(), what="the offer of the GGUF")
            planner.twin_button.click()
            assert planner.profile is not None and planner.profile.format == "gguf"
            assert planner.profile.path == str(tiny_model) and planner.twin_button.isHidden()
        finally:
            await close_window(services, window)

    run(loop, scenario(), timeout=60)
