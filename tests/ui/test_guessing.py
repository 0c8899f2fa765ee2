"""Settings → Guess tokens ahead: the choice is saved, and with "let Hearth choose" a load takes the
library's draft model of the same tokenizer, whose guesses the chat's statistics count."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.windows import close_window, open_window, run, until
from hearth.core.profile import ModelProfile
from hearth.models import synthetic
from hearth.service.drafting import Drafting
from hearth.store.settings import load_speculation, settings_path
from hearth.ui.guessing_box import GuessingBox


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("guessing")
    big = synthetic.variant(synthetic.TINY, name="big", n_embd=256, n_ff=512)
    return synthetic.write_model(root / "big.gguf", big), synthetic.write_model(
        root / "small.gguf", synthetic.TINY
    )


def test_the_library_draft_is_used_and_its_guesses_counted(qtbot, loop, pair: tuple[Path, Path]) -> None:
    big, small = pair

    async def scenario() -> tuple[str, str, str, str]:
        services, window = await open_window()
        try:
            box = window.settings.guessing
            chosen = str(box.currentData())
            window.models.import_file(str(small))
            window.models.import_file(str(big))
            page = window.planner
            await until(
                lambda: page.profile is not None and page.profile.path == str(big), what="model chosen"
            )
            # The Planner says which draft the load takes, what it holds here and what it may give.
            await until(lambda: "Guesses ahead with" in page.guessing.text(), what="the draft proposed")
            proposed = page.guessing.text()
            assert "small" in proposed and "expected" in proposed and "×" in proposed, proposed
            page.load_button.click()
            await until(lambda: services.serving.loaded() is not None, timeout=60, what="model loaded")
            loaded = services.serving.loaded()
            assert loaded is not None and loaded.loaded is not None
            draft = services.serving.guessing.draft
            await until(lambda: window.chat.send_button.isEnabled(), what="the chat ready")
            window.chat.send("hi")
            await until(lambda: window.chat.send_button.text() == "Send", timeout=30, what="the answer")
            # Once an answer measured the guesses, the Planner's speed-up rests on them.
            await until(lambda: "kept so far" in page.guessing.text(), what="the measured share said")
            box.setCurrentIndex(box.findData("none"))
            page.refresh_devices()
            assert page.guessing.text() == "Guessing ahead is off (Settings).", page.guessing.text()
            return chosen, loaded.loaded.speculation, draft.path if draft else "", window.chat.stats.text()
        finally:
            await close_window(services, window)

    chosen, kind, draft, stats = run(loop, scenario())
    assert chosen == "auto"
    assert (kind, draft) == ("draft", str(small))
    assert "guesses kept" in stats, stats
    assert load_speculation().draft == "none"


async def _no_library() -> list[ModelProfile]:
    return []


async def _no_read(path: str) -> ModelProfile:
    raise OSError(f"{path} is not read here")


def test_a_choice_that_cannot_be_saved_is_said_and_the_stored_one_shown_again(qtbot) -> None:
    drafting = Drafting(_no_library, _no_read)
    box = GuessingBox(drafting)
    qtbot.addWidget(box)
    assert box.currentData() == "auto"
    # The settings file cannot be read (a folder in its place): the service's error, not a draft's.
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().mkdir()
    box.setCurrentIndex(box.findData("lookup"))
    assert "cannot read" in box.toolTip(), box.toolTip()
    # What the box shows is what the next load does.
    assert box.currentData() == drafting.settings.draft == "auto"
    # Once the file can be written, a choice is saved and the tooltip says what the box is for again.
    settings_path().rmdir()
    box.setCurrentIndex(box.findData("none"))
    assert load_speculation().draft == drafting.settings.draft == "none"
    assert "guesses the next few tokens" in box.toolTip()
