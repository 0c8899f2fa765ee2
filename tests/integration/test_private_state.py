"""Hearth's state folder is private to its user, whoever else shares the machine."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness.nodes import OTHER_USER, can_act_as_other_user
from hearth.store import paths
from hearth.store.conversations import ConversationStore

needs_root = pytest.mark.skipif(
    not can_act_as_other_user(), reason="needs root and setpriv to act as another local user"
)


def _modes(root: Path) -> dict[Path, int]:
    return {p: stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


def test_new_and_old_state_is_private(hearth_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir(mode=0o755)
    old_umask = os.umask(0o022)
    try:
        hearth_home.mkdir(mode=0o755)
        (hearth_home / "logs").mkdir(mode=0o755)
        (hearth_home / "logs" / "engine.log").write_text("an older install's log\n")
        # A link out of the state folder (say, models kept on another disk) is not followed.
        (hearth_home / "models").symlink_to(outside)
        store = ConversationStore(paths.conversations_db())
        store.create_conversation("secret plans", "model", "")
        store.close()
        paths.secure_state()
    finally:
        os.umask(old_umask)
    for path, mode in _modes(hearth_home).items():
        if path.is_symlink():
            continue
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert stat.S_IMODE(outside.stat().st_mode) == 0o755


@needs_root
def test_another_local_user_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A home that others may walk up to (pytest's own temp folders are private already), under a
    # umask that would leave new files world-readable.
    base = Path(tempfile.mkdtemp(prefix="hearth-shared-"))
    base.chmod(0o755)
    monkeypatch.setenv("HEARTH_HOME", str(base / "home"))
    old_umask = os.umask(0o022)
    try:
        store = ConversationStore(paths.conversations_db())
        store.create_conversation("secret plans", "model", "")
        store.close()
        fd = paths.open_log(paths.logs_dir() / "engine.log")
        os.write(fd, b"private log line\n")
        os.close(fd)
        targets = [paths.conversations_db(), paths.logs_dir() / "engine.log"]
        for target in targets:
            result = subprocess.run([*OTHER_USER, "cat", str(target)], capture_output=True, timeout=10)
            assert result.returncode != 0, target
            assert b"secret" not in result.stdout and b"private" not in result.stdout
        listing = subprocess.run([*OTHER_USER, "ls", str(base / "home")], capture_output=True, timeout=10)
        assert listing.returncode != 0
    finally:
        os.umask(old_umask)
        shutil.rmtree(base)


def test_logs_are_rotated_once_they_grow(hearth_home: Path) -> None:
    log = paths.logs_dir() / "engine.log"
    for round_ in range(4):
        fd = paths.open_log(log)
        os.write(fd, bytes([65 + round_]) * (paths.LOG_MAX_BYTES + 1))
        os.close(fd)
    names = sorted(p.name for p in log.parent.iterdir())
    assert names == ["engine.log", "engine.log.1", "engine.log.2"]
    assert sum(p.stat().st_size for p in log.parent.iterdir()) <= 3 * (paths.LOG_MAX_BYTES + 1)
