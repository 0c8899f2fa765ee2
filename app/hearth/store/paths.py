"""Where Hearth keeps its state: one directory, chosen by platformdirs, overridable with HEARTH_HOME.

Several nodes on one machine (and every test) get their own state by pointing HEARTH_HOME elsewhere.
The directory and every folder in it are private to this user (0700 on POSIX): conversations, logs,
keys and the workers' weight caches are nobody else's business, whatever the umask says.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "HEARTH_HOME"


LOG_MAX_BYTES = 5 * 2**20
LOG_KEPT = 2


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def state_dir() -> Path:
    """The root of all state; created on first use, private to this user."""
    override = os.environ.get(ENV_HOME)
    root = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("Hearth", "Hearth"))
    return _private_dir(root)


def _sub(name: str) -> Path:
    return _private_dir(state_dir() / name)


def secure_state() -> None:
    """Make an existing state folder private: folders 0700, files 0600 (installs from before this)."""
    if os.name != "posix":
        return
    root = state_dir()
    # os.walk does not descend into linked folders; links themselves are left alone, so nothing
    # outside the state folder changes mode.
    for folder, dirs, files in os.walk(root):
        for name, mode in [*((d, 0o700) for d in dirs), *((f, 0o600) for f in files)]:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(mode)


def open_log(path: Path) -> int:
    """A file descriptor appending to the log ``path`` (0600), rotated once it passes ``LOG_MAX_BYTES``:
    ``path`` becomes ``path.1`` and so on, keeping ``LOG_KEPT`` old ones."""
    _private_dir(path.parent)
    try:
        if path.stat().st_size > LOG_MAX_BYTES:
            for i in range(LOG_KEPT, 0, -1):
                older = path.with_name(f"{path.name}.{i}")
                newer = path.with_name(f"{path.name}.{i - 1}") if i > 1 else path
                if newer.exists():
                    os.replace(newer, older)
    except FileNotFoundError:
        pass
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def config_dir() -> Path:
    return _sub("config")


def models_dir() -> Path:
    return _sub("models")


def cache_dir() -> Path:
    return _sub("cache")


def logs_dir() -> Path:
    return _sub("logs")


def conversations_db() -> Path:
    return state_dir() / "conversations.sqlite3"
