"""A host's weight cache on a donor is held to its quota in its subfolders too: a cache kept in
nested folders does not escape it."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hearth.mesh import workers
from hearth.mesh.workers import trim_cache


def _write(path: Path, size: int, age_s: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"w" * size)
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def _left(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_files_in_subfolders_count_and_go_oldest_first(tmp_path: Path) -> None:
    oldest = _write(tmp_path / "ab" / "cd" / "0000000000000001", 400, age_s=4000)
    old = _write(tmp_path / "0000000000000002", 400, age_s=3000)
    middle = _write(tmp_path / "ef" / "0000000000000003", 400, age_s=2000)
    new = _write(tmp_path / "ab" / "0000000000000004", 400, age_s=10)
    assert trim_cache(tmp_path, 1600) == 0  # all of them fit
    assert trim_cache(tmp_path, 1500) == 400
    assert not oldest.exists() and old.exists() and middle.exists() and new.exists()
    # The folder it emptied went with it; its parent still holds a file and stays.
    assert _left(tmp_path) == ["0000000000000002", "ab", "ab/0000000000000004", "ef", "ef/0000000000000003"]
    assert trim_cache(tmp_path, 500) == 800
    assert _left(tmp_path) == ["ab", "ab/0000000000000004"]
    assert trim_cache(tmp_path, 0) == 400
    assert _left(tmp_path) == [] and tmp_path.is_dir()  # the cache folder itself stays


def test_a_deep_tree_of_small_files_is_held_to_the_quota(tmp_path: Path) -> None:
    # 40 levels of 2 files each: what one flat listing of the cache folder would never see.
    folder = tmp_path
    for depth in range(40):
        folder = folder / f"d{depth}"
        for i in range(2):
            _write(folder / f"t{i}", 1000, age_s=10_000 - depth * 10 - i)
    assert trim_cache(tmp_path, 10_000) == 70_000
    kept = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in kept) == 10_000
    # The newest files were the deepest: they stay, and so do the folders that lead to them.
    assert all(p.parent.name in {f"d{d}" for d in range(35, 40)} for p in kept), kept


def test_links_are_neither_followed_nor_counted(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    elsewhere = tmp_path / "elsewhere"
    precious = _write(elsewhere / "precious", 5000, age_s=9000)
    _write(cache / "0000000000000001", 100, age_s=100)
    try:
        (cache / "folder-link").symlink_to(elsewhere, target_is_directory=True)
        (cache / "file-link").symlink_to(precious)
    except OSError as exc:  # Windows without the privilege to make links
        pytest.skip(f"cannot make a symbolic link here: {exc}")
    assert trim_cache(cache, 100) == 0  # the linked 5000 bytes are not the cache's
    # ggml's cache holds files only: the links go themselves, and what they point to stays.
    assert not (cache / "folder-link").is_symlink() and not (cache / "file-link").is_symlink()
    assert precious.exists() and (elsewhere / "precious").exists()
    assert trim_cache(cache, 0) == 100
    assert precious.exists() and _left(cache) == []


def test_a_folder_swapped_for_a_link_mid_trim_leads_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker owns the cache and may swap a folder for a link to the user's files between the
    # trim's look and its removals: the removals must still happen only inside the cache.
    cache, home = tmp_path / "cache", tmp_path / "home"
    precious = _write(home / "sub" / "0000000000000001", 400, age_s=9000)
    _write(cache / "sub" / "0000000000000001", 400, age_s=8000)
    _write(cache / "0000000000000002", 400, age_s=10)
    walk = workers._walk
    walks = 0

    def swapping(folder: Path, topdown: bool) -> Iterator[Any]:
        nonlocal walks
        walks += 1
        if walks == 2:  # after it decided what to remove, before it removes anything
            shutil.rmtree(cache / "sub")
            try:
                (cache / "sub").symlink_to(home / "sub", target_is_directory=True)
            except OSError as exc:
                pytest.skip(f"cannot make a symbolic link here: {exc}")
        yield from walk(folder, topdown)

    monkeypatch.setattr(workers, "_walk", swapping)
    trim_cache(cache, 400)
    assert walks == 2 and precious.exists() and precious.read_bytes() == b"w" * 400
    assert (home / "sub").is_dir() and not (cache / "sub").is_symlink()


def test_an_absent_cache_removes_nothing(tmp_path: Path) -> None:
    assert trim_cache(tmp_path / "absent", 0) == 0
