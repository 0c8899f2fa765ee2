"""Reading which of llama.cpp's libraries a process holds, and how many times."""

from __future__ import annotations

from pathlib import Path

from hearth.cli.selftest import loaded_libraries


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
