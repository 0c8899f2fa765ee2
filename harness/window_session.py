"""One session of the window in a process of its own: load a model, stream one answer, quit.

    python -m harness.window_session MODEL TOKENS

Prints ``streamed N characters`` and ``none refs D`` (how far None's reference count moved) and then
leaves through normal interpreter exit, as the app does, so the caller can check the exit status.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.windows import close_window, open_window, run_on_qt, until
from hearth.core.plan import HOST, Assignment, Plan
from hearth.core.profile import read_profile
from hearth.store import paths


async def session(model: Path, tokens: int) -> None:
    # In the library, as a user's model would be (an empty library opens the window on the catalog,
    # whose background work would blur the reference count measured below).
    (paths.models_dir() / model.name).symlink_to(model)
    services, window = await open_window(name="host")
    try:
        profile = read_profile(str(model))
        whole = Plan(profile.block_count, (Assignment(HOST, 0, profile.block_count),))
        await services.serving.load(profile, whole, 512)
        window.chat.model_changed()
        chat = window.chat
        chat.temperature.setValue(0.0)
        chat.max_tokens.setValue(tokens)
        before = sys.getrefcount(None)
        chat.send("Tell me everything you know")
        await until(lambda: chat.turn is None and chat.last_done is not None, timeout=120, what="the answer")
        done = chat.last_done
        assert done is not None
        text = chat.conversation.messages[-1].text
        print(f"streamed {len(text)} characters, {done.completion_tokens} tokens")
        print(f"none refs {sys.getrefcount(None) - before}")
    finally:
        await close_window(services, window)


if __name__ == "__main__":
    run_on_qt(lambda _tmp: session(Path(sys.argv[1]), int(sys.argv[2])))
