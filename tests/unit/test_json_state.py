"""State files: written whole or not at all, a damaged one kept aside rather than written over, and
each of Hearth's JSON state files read back as it was written."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hearth.mesh.identity import load_or_create, make_certificate
from hearth.mesh.trust import TrustStore
from hearth.models.library import ModelLibrary
from hearth.service import preferences
from hearth.store import json_state, paths


@dataclass(frozen=True)
class Thing:
    name: str = ""
    sizes: tuple[int, ...] = ()
    tags: list[str] = field(default_factory=list)


def test_a_missing_file_gives_the_default_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    assert json_state.load(path, Thing, Thing) == Thing()
    assert json_state.load_raw(path, Thing, Thing) == (Thing(), None)
    assert not path.exists()


def test_a_value_reads_back_as_written_private_to_this_user(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "thing.json"
    json_state.write(path, Thing("a", (1, 2), ["x"]))
    assert json_state.load(path, Thing, Thing) == Thing("a", (1, 2), ["x"])
    assert json.loads(path.read_text()) == {"name": "a", "sizes": [1, 2], "tags": ["x"]}
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_the_raw_json_comes_with_the_value_so_newer_fields_can_be_kept(tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    path.write_text('{"name": "a", "from_a_newer_version": 3}')
    value, raw = json_state.load_raw(path, Thing, Thing)
    assert value == Thing("a")
    assert raw == {"name": "a", "from_a_newer_version": 3}


@pytest.mark.parametrize(
    "content",
    [b'{"name": "a", "siz', b"", b"[1, 2]", b'{"name": 5}', b'{"sizes": ["one"]}'],
    ids=["cut-short", "empty", "not-an-object", "wrong-type", "wrong-item-type"],
)
def test_a_damaged_file_is_kept_aside_and_reported_not_written_over(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "thing.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="hearth.store.json_state"):
        assert json_state.load(path, Thing, Thing) == Thing()
    kept = tmp_path / "thing.json.corrupt"
    assert kept.read_bytes() == content
    assert not path.exists()
    assert str(path) in caplog.text and str(kept) in caplog.text
    assert json_state.set_aside()[-1].path == path and json_state.set_aside()[-1].kept_as == kept
    # The next write makes a new file beside the copy, which stays as it was.
    json_state.write(path, Thing("new"))
    assert json_state.load(path, Thing, Thing) == Thing("new")
    assert kept.read_bytes() == content


def test_a_second_damaged_file_does_not_replace_the_first_copy(tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    path.write_bytes(b"{first")
    json_state.load(path, Thing, Thing)
    path.write_bytes(b"{second")
    json_state.load(path, Thing, Thing)
    assert (tmp_path / "thing.json.corrupt").read_bytes() == b"{first"
    assert (tmp_path / "thing.json.corrupt-2").read_bytes() == b"{second"


def test_a_file_that_cannot_be_read_stops_with_a_clear_error_and_stays(tmp_path: Path) -> None:
    path = tmp_path / "thing.json"
    path.mkdir()  # there, but not readable as a file (as a disk error or wrong permissions would be)
    with pytest.raises(json_state.StateFileError, match=r"cannot read .*thing\.json"):
        json_state.load(path, Thing, Thing)
    assert path.is_dir() and not list(tmp_path.glob("*.corrupt*"))


def test_an_interrupted_write_leaves_the_old_file_whole_and_no_temporary_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "thing.json"
    json_state.write(path, Thing("old", (1,)))
    before = path.read_bytes()

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", fail)
        with pytest.raises(OSError, match="No space"):
            json_state.write(path, Thing("new", (2,)))
    assert path.read_bytes() == before
    assert json_state.load(path, Thing, Thing) == Thing("old", (1,))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing.json"]


def test_the_new_file_is_on_the_disk_before_it_replaces_the_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    json_state.write(tmp_path / "thing.json", Thing("a"))
    assert events[:2] == ["fsync", "replace"]


# --- each state file, round trip ---


def test_the_trust_list_reads_back_every_paired_device(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    store = TrustStore(path)
    desk = store.add("desk", make_certificate()[0].decode(), "192.0.2.2:1")
    laptop = store.add("laptop", make_certificate()[0].decode())
    store.seen(laptop.device_id, address="192.0.2.3:1")
    again = TrustStore(path)
    assert again.get(desk.device_id) == desk
    seen = again.get(laptop.device_id)
    assert seen is not None and seen.address == "192.0.2.3:1"
    assert [d.name for d in again.devices()] == ["desk", "laptop"]


def test_a_damaged_trust_list_is_kept_aside_and_trusts_nobody(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    TrustStore(path).add("desk", make_certificate()[0].decode())
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    assert TrustStore(path).devices() == []
    assert (tmp_path / "trust.json.corrupt").read_bytes() == whole[: len(whole) // 2]


def test_the_model_index_reads_back_imported_models(tmp_path: Path, tiny_model: Path) -> None:
    index = tmp_path / "models.json"
    ModelLibrary(index).import_file(str(tiny_model))
    assert str(tiny_model.resolve()) in ModelLibrary(index).paths()
    ModelLibrary(index).remove(str(tiny_model.resolve()))
    assert str(tiny_model.resolve()) not in ModelLibrary(index).paths()
    assert json.loads(index.read_text()) == []


def test_the_windows_preferences_read_back_and_keep_what_they_do_not_know() -> None:
    preferences.write("language", "ru")
    preferences.write("theme", "dark")
    assert preferences.read() == {"language": "ru", "theme": "dark"}
    file = paths.config_dir() / "ui.json"
    file.write_text(json.dumps({"language": "ru", "window": {"width": 900}}))
    assert preferences.read() == {"language": "ru"}
    preferences.write("theme", "light")
    assert json.loads(file.read_text()) == {"language": "ru", "window": {"width": 900}, "theme": "light"}


def test_the_device_name_reads_back_as_given() -> None:
    assert load_or_create(name="kitchen").name == "kitchen"
    assert load_or_create().name == "kitchen"
    assert (paths.config_dir() / "device-name").read_text(encoding="utf-8") == "kitchen"
