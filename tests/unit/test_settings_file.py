"""settings.json: typed on the way in, written atomically, never reset without saying so."""

from __future__ import annotations

import json
import logging
import os

import pytest

from hearth.store import json_state, settings
from hearth.store.settings import ApiSettings, Donation, Pooling, SettingsError


def test_each_section_reads_back_as_it_was_saved() -> None:
    settings.update_donation(enabled=True, max_memory=8 * 2**30, threads=3)
    settings.update_api(port=8080, lan=True, origins=["https://app.example"], keep_history=True)
    settings.update_pooling(replan_automatically=True)
    assert settings.load_donation() == Donation(True, 8 * 2**30, 3)
    assert settings.load_api() == ApiSettings(
        port=8080, lan=True, origins=("https://app.example",), keep_history=True
    )
    assert settings.load_pooling() == Pooling(replan_automatically=True)
    # One change keeps the other settings of its section and the other sections.
    settings.update_donation(threads=4)
    assert settings.load_donation() == Donation(True, 8 * 2**30, 4)
    assert settings.load_api().port == 8080


def test_a_file_an_earlier_hearth_wrote_reads_as_it_did() -> None:
    settings.settings_path().write_text(
        json.dumps(
            {
                "donation": {"enabled": True, "max_memory": 1073741824, "threads": 0},
                "api": {"enabled": True, "port": 47312, "lan": False, "host": "", "origins": ["http://x"]},
            },
            indent=2,
        )
    )
    assert settings.load_donation() == Donation(True, 2**30)
    assert settings.load_api() == ApiSettings(origins=("http://x",))
    assert settings.load_pooling() == Pooling()
    assert not list(settings.settings_path().parent.glob("*.corrupt*"))


def test_nothing_stored_gives_the_defaults() -> None:
    assert settings.load_settings() == settings.Settings()
    assert not settings.settings_path().exists()


def test_a_truncated_file_is_kept_and_reported_not_silently_reset(caplog: pytest.LogCaptureFixture) -> None:
    settings.update_donation(enabled=True, max_memory=4 * 2**30)
    settings.update_api(enabled=False)
    path = settings.settings_path()
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 10])  # as a crash in the middle of the old in-place write left it
    with caplog.at_level(logging.WARNING):
        donation = settings.load_donation()
    assert donation == Donation()  # what it held is not guessed at ...
    kept = path.with_name("settings.json.corrupt")
    assert kept.read_bytes() == whole[: len(whole) - 10]  # ... it is kept for the user,
    assert "settings.json" in caplog.text and str(kept) in caplog.text  # and they are told
    assert [s.kept_as for s in json_state.set_aside()][-1] == kept
    # Saving again writes a new file and leaves the copy alone.
    settings.update_donation(enabled=True)
    assert settings.load_donation().enabled
    assert kept.read_bytes() == whole[: len(whole) - 10]


def test_a_value_of_the_wrong_type_in_the_file_is_damage_not_a_guess() -> None:
    path = settings.settings_path()
    path.write_text(json.dumps({"donation": {"enabled": "yes", "max_memory": 1}}))
    assert settings.load_donation() == Donation()
    assert json.loads(path.with_name("settings.json.corrupt").read_text())["donation"]["enabled"] == "yes"


def test_a_save_interrupted_before_the_rename_leaves_the_old_file_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.update_donation(enabled=True, max_memory=2 * 2**30)
    path = settings.settings_path()
    before = path.read_bytes()

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", fail)
        with pytest.raises(OSError, match="No space"):
            settings.update_donation(max_memory=6 * 2**30)
    assert path.read_bytes() == before
    assert settings.load_donation() == Donation(True, 2 * 2**30)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith((".settings", "settings"))) == [
        "settings.json"
    ]


def test_what_a_newer_version_wrote_is_kept_when_this_one_saves() -> None:
    path = settings.settings_path()
    path.write_text(
        json.dumps(
            {
                "donation": {"enabled": True, "max_memory": 0, "gpu_share": 0.5},
                "scheduling": {"quiet_hours": [22, 7]},
            }
        )
    )
    assert settings.load_donation() == Donation(enabled=True)
    settings.update_donation(threads=2)
    stored = json.loads(path.read_text())
    assert stored["donation"] == {"enabled": True, "max_memory": 0, "threads": 2, "gpu_share": 0.5}
    assert stored["scheduling"] == {"quiet_hours": [22, 7]}


def test_a_change_of_the_wrong_type_or_to_no_setting_is_refused_and_nothing_is_written() -> None:
    settings.update_api(port=9000)
    path = settings.settings_path()
    before = path.read_bytes()
    with pytest.raises(SettingsError, match="port"):
        settings.update_api(port="80")
    with pytest.raises(SettingsError, match="colour"):
        settings.update_api(colour="red")
    assert path.read_bytes() == before


def test_the_settings_file_is_private_to_this_user() -> None:
    settings.update_pooling(replan_automatically=True)
    if os.name == "posix":
        assert settings.settings_path().stat().st_mode & 0o777 == 0o600
