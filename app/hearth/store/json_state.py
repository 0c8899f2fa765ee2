"""Small state files (settings, the trust list, the model index, the window's preferences): read with
a default, written whole or not at all.

A write goes to a temporary file in the same folder, is flushed to the disk, and replaces the old
file in one rename, so a crash or a full disk leaves either the old file or the new one, never half
of one. A file that does not decode (cut short, edited by hand, from no version of Hearth) is never
written over: it is moved aside to ``NAME.corrupt``, the log says so, ``set_aside()`` lists it for
the window to tell the user, and the default stands in for it. A file that exists but cannot be read
at all (permissions, a disk error) raises ``StateFileError``: writing the default over it would lose
what it holds.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from hearth.core.errors import HearthError

log = logging.getLogger(__name__)
T = TypeVar("T")
PRIVATE = 0o600
CORRUPT = ".corrupt"


class StateFileError(HearthError):
    """A state file exists but cannot be read; the message names it and why."""


@dataclass(frozen=True)
class SetAside:
    """A state file that did not decode, and where it was kept."""

    path: Path
    kept_as: Path
    reason: str


_set_aside: list[SetAside] = []


def set_aside() -> list[SetAside]:
    """Every state file this process found damaged and moved aside, oldest first."""
    return list(_set_aside)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _free_name(path: Path) -> Path:
    first = path.with_name(path.name + CORRUPT)
    if not first.exists():
        return first
    for n in itertools.count(2):
        candidate = path.with_name(f"{path.name}{CORRUPT}-{n}")
        if not candidate.exists():
            return candidate
    raise AssertionError("unreachable")


def _set_aside_damaged(path: Path, reason: str) -> None:
    # An earlier copy is kept too: it may be the last one that held the user's real settings.
    kept = _free_name(path)
    try:
        os.replace(path, kept)
    except OSError as exc:
        raise StateFileError(
            f"{path} is damaged ({reason}) and cannot be moved aside: {exc.strerror or exc}"
        ) from exc
    log.warning("%s is damaged (%s): kept as %s, defaults used instead", path, reason, kept)
    _set_aside.append(SetAside(path, kept, reason))


def load_raw(path: Path, kind: type[T], default: Callable[[], T]) -> tuple[T, Any]:
    """The file as ``kind`` (converted strictly: a wrong type is damage, not a guess) and the JSON it
    held, for writing back what this version does not know; ``(default(), None)`` when the file is
    missing or was damaged and set aside."""
    data = _read_bytes(path)
    if data is None:
        return default(), None
    try:
        raw = msgspec.json.decode(data)
        value = msgspec.convert(raw, kind, strict=True)
    except msgspec.DecodeError as exc:  # malformed JSON, and (ValidationError) a wrong type or value
        _set_aside_damaged(path, str(exc))
        return default(), None
    return value, raw


def load(path: Path, kind: type[T], default: Callable[[], T]) -> T:
    """The file as ``kind``; ``default()`` when it is missing or was damaged and set aside."""
    return load_raw(path, kind, default)[0]


def write_bytes(path: Path, data: bytes, mode: int = PRIVATE) -> None:
    """Replace ``path`` with ``data`` in one step: the old file stays whole until the new one is on
    the disk. ``mode``: the new file's permissions (private to this user, as the state folder is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if os.name == "posix":
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # The rename itself lives in the folder; without this a power cut may forget it. Windows cannot
    # open a folder for this, and its rename is already durable enough for settings.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write(path: Path, value: object, mode: int = PRIVATE) -> None:
    """``value`` (plain values, dataclasses, msgspec structs) as indented JSON, written atomically."""
    write_bytes(path, msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n", mode)
