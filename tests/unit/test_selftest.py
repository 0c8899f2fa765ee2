"""Reading which of llama.cpp's libraries a process holds, and how many times; the checks as results,
and the command's lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from hearth.service.selftest import Check, broken, check, loaded_libraries, run_checks
from hearth.ui.platform_check import no_display


def test_a_second_copy_of_a_library_is_seen(tmp_path: Path) -> None:
    bundle, venv = tmp_path / "bundle", tmp_path / "venv"
    for folder in (bundle, venv):
        folder.mkdir()
        for name in ("libggml.so.0", "libggml-base.so.0", "libllama.so", "libc.so.6"):
            (folder / name).write_bytes(b"")
    (bundle / "libggml-cpu.so.0").symlink_to(venv / "libggml-base.so.0")  # a link counts as its target
    maps = [str(bundle / "libggml.so.0"), str(venv / "libggml.so.0"), str(bundle / "libllama.so")]
    maps += [str(bundle / "libggml-base.so.0"), str(bundle / "libc.so.6"), str(bundle / "libggml-cpu.so.0")]
    found = loaded_libraries(maps)
    assert set(found) == {"libggml", "libggml-base", "libllama", "libggml-cpu"}
    assert found["libggml"] == sorted([str(bundle / "libggml.so.0"), str(venv / "libggml.so.0")])
    assert found["libggml-cpu"] == [str(venv / "libggml-base.so.0")]
    assert len(found["libllama"]) == 1


def test_windows_and_macos_names() -> None:
    names = ["C:/h/llama.dll", "C:/h/ggml-base.dll", "/A/libggml.0.dylib", "/A/libggml.dylib"]
    found = loaded_libraries(names)
    assert set(found) == {"llama", "ggml-base", "libggml"}
    assert len(found["libggml"]) == 2  # two different files of one library


def test_a_check_that_raises_fails_with_what_it_raised() -> None:
    def broken_probe() -> tuple[bool, str]:
        raise OSError("no such device")

    assert check("x", broken_probe) == Check("x", False, "OSError: no such device")
    assert check("y", lambda: (True, "fine"), fatal=False) == Check("y", True, "fine", fatal=False)


def test_the_window_check_runs_in_its_place_and_decides_the_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    from hearth.service import selftest

    probes = ("_llama", "_rpc", "_backends", "_cpu", "_accelerator", "_once", "_keyring", "_mdns", "_data")
    for name in probes:
        monkeypatch.setattr(selftest, name, lambda: (True, "stubbed"))
    checks = run_checks(lambda: (False, "no platform plugin"))
    assert [c.name for c in checks][6:9] == ["ggml loaded once", "Qt platform", "keyring"]
    assert checks[7] == Check("Qt platform", False, "no platform plugin")
    assert broken(checks)
    assert not broken([*checks[:7], *checks[8:]])


def test_the_command_prints_one_aligned_line_per_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hearth.cli import selftest as command

    found = [
        Check("version", True, "hearth 1"),
        Check("accelerator", False, "none", fatal=False),
        Check("data folder", False, "read-only"),
    ]
    monkeypatch.setattr(command, "run_checks", lambda window, engine, window_needed: found)
    assert command.cmd_self_test(argparse.Namespace(engine=False, json=False)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ok   version      hearth 1",
        "note accelerator  none",
        "FAIL data folder  read-only",
    ]
    assert command.cmd_self_test(argparse.Namespace(engine=False, json=True)) == 1
    assert json.loads(capsys.readouterr().out)[1] == {
        "name": "accelerator",
        "ok": False,
        "detail": "none",
        "fatal": False,
    }


@pytest.mark.skipif(sys.platform != "linux", reason="a Linux session's display")
def test_no_display_is_told_unless_one_is_named_or_wayland_has_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_SESSION_TYPE", "tty")
    said = no_display()
    assert said is not None and "no display" in said and "`hearth node`" in said
    # Wayland's own default display counts in a Wayland session, not in another (over SSH, say).
    (tmp_path / "wayland-0").touch()
    assert no_display() is not None
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert no_display() is None
    (tmp_path / "wayland-0").unlink()
    for name, value in (
        ("DISPLAY", ":0"),
        ("WAYLAND_DISPLAY", "wayland-1"),
        ("QT_QPA_PLATFORM", "offscreen"),
    ):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            assert no_display() is None, name
