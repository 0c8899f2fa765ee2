"""Settings say, where donation is set, when the workers this device runs are not isolated and why."""

from __future__ import annotations

import sys

import pytest

from harness.windows import close_window, open_window, run, until
from hearth.engine import rpc_worker

REASON = "the kernel refused a private network namespace (Operation not permitted)"


def test_settings_say_when_workers_run_without_isolation_and_why(
    qtbot, loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What this machine's kernel answered (Ubuntu's AppArmor rule, say), as the node records it.
    monkeypatch.setattr(rpc_worker, "_isolation", REASON)

    async def scenario() -> None:
        services, window = await open_window()
        note = window.settings.not_isolated
        try:
            assert note.isHidden()  # not donating: no worker runs, nothing to say
            window.settings.donate.setChecked(True)
            window.settings.apply()
            await until(lambda: not note.isHidden(), what="the note")
            assert services.donation.workers_exposed == REASON
            assert "Not isolated" in note.text() and REASON in note.text()
            await services.donation.donate(False)
            await until(note.isHidden, what="the note to go")
        finally:
            await close_window(services, window)

    run(loop, scenario())


def test_settings_say_nothing_where_workers_are_isolated(
    qtbot, loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform != "linux":
        pytest.skip("only Linux has network namespaces")
    monkeypatch.setattr(rpc_worker, "_isolation", "")  # each worker gets a namespace of its own

    async def scenario() -> None:
        services, window = await open_window()
        try:
            await services.donation.donate(True)
            await until(lambda: window.settings.donate.isChecked(), what="donation shown")
            assert services.donation.workers_exposed is None and window.settings.not_isolated.isHidden()
        finally:
            await services.donation.donate(False)
            await close_window(services, window)

    run(loop, scenario())
