"""Hearth's own transfer of model files: resumable, verified, atomic.

Each file streams into ``<name>.partial`` beside where it will live; a later attempt (after a cancel, a
lost connection, a crash or a restart) asks only for the bytes after what the partial file holds, with an
HTTP Range request. The SHA-256 is computed while the bytes stream (a resumed file re-reads its partial
bytes first) and checked against the hub's LFS hash; only then are the files renamed into place, every
part of a split model together, so the library never sees half a model or a damaged one.

Every path is checked before anything is written: the hub's names must be plain names (``hub.py``), and
what they join to must still be inside the models folder once symlinks are followed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import aiohttp
from yarl import URL

from hearth.core.names import clean_name
from hearth.core.units import human_size
from hearth.models.hub import (
    Hub,
    HubError,
    HubUnreachable,
    NeedsAccess,
    NotOnHub,
    RemoteFile,
    RemoteModel,
    UnsafeName,
    check_file_name,
    check_repo_id,
    need_access_message,
    transport_allowed,
)

log = logging.getLogger(__name__)

PARTIAL = ".partial"
CHUNK = 1 << 20
PROGRESS_EVERY_S = 0.2
# A slow link still reaches the disk this often, so a crash or a power cut loses little.
WRITE_EVERY_S = 0.5
SPEED_WINDOW_S = 5.0
# The hub sends a download on to its CDN once; a longer chain than this is a loop.
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class NoDiskSpace(HubError):
    pass


class HashMismatch(HubError):
    pass


@dataclass(frozen=True)
class Progress:
    name: str  # the model's (first) file
    done: int
    total: int
    bytes_per_s: float

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.bytes_per_s if self.bytes_per_s > 0 else None


def local_path(folder: Path, file: RemoteFile) -> Path:
    """Where a hub file lives in the models folder: ``owner/repo/name``; UnsafeName when the hub's names
    are not plain names, or when they lead outside the folder (through a symlink inside it)."""
    check_file_name(check_repo_id(file.repo), file.name)
    path = folder.joinpath(*file.repo.split("/"), *file.name.split("/"))
    _inside(folder, path, file)
    _inside(folder, partial_path(path), file)
    return path


def _inside(folder: Path, path: Path, file: RemoteFile) -> None:
    # resolve() follows every symlink that exists now, so a folder on the way that links elsewhere is
    # seen for where it leads.
    root = folder.resolve()
    where = path.resolve()
    if where == root or not where.is_relative_to(root):
        raise UnsafeName(
            f"{file.repo}/{file.name} would be written to {where}, outside the models folder {root} "
            "(a symbolic link inside it leads elsewhere); nothing was written"
        )


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _existing_dir(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=20, sock_read=60)


class _Meter:
    """Bytes done over the whole model, with a speed over the last few seconds."""

    def __init__(self, name: str, total: int, done: int, report: Callable[[Progress], None] | None) -> None:
        self.name, self.total, self.done, self._report = name, total, done, report
        self._samples: collections.deque[tuple[float, int]] = collections.deque([(time.monotonic(), done)])
        self._last = 0.0

    def add(self, n: int, force: bool = False) -> None:
        self.done += n
        now = time.monotonic()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[0][0] > SPEED_WINDOW_S:
            self._samples.popleft()
        if self._report and (force or now - self._last >= PROGRESS_EVERY_S):
            self._last = now
            t0, d0 = self._samples[0]
            speed = (self.done - d0) / (now - t0) if now > t0 else 0.0
            self._report(Progress(self.name, self.done, self.total, speed))


class _Digests:
    """The SHA-256 of a file's bytes as they stream, and for a file the hub keeps in git, its blob id
    (SHA-1 over "blob <size>\\0" and the bytes): every file is checked against what its listing says."""

    def __init__(self, file: RemoteFile) -> None:
        self.sha256 = hashlib.sha256()
        self.blob = hashlib.sha1(b"blob %d\0" % file.size) if file.git_blob else None

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        if self.blob is not None:
            self.blob.update(data)


def _verify(file: RemoteFile, digests: _Digests) -> str | None:
    """Why the downloaded bytes are not the file the hub listed (or the catalog pinned), or None when
    they are, or when there is nothing to check them against.

    A file listed with neither a SHA-256 nor a git blob id is kept, with a warning in the log and
    ``RemoteModel.unverified`` naming it, rather than refused: the hub's own hashes guard against
    damage and a repository changing under a download, not against a hub that lies (one could list the
    hash of whatever it serves), so refusing would stop downloads from mirrors that leave hashes out
    while protecting against nothing TLS does not already cover. Only a pin that Hearth ships
    (``hearth.models.resolve``) holds a hub to particular bytes, and a pinned file always has a
    SHA-256 to meet here."""
    digest = digests.sha256.hexdigest()
    if file.sha256 and digest != file.sha256.lower():
        said = "the catalog pins" if file.pinned else "the hub says"
        return f"SHA-256 {digest[:12]}…, {said} {file.sha256[:12]}…"
    if file.git_blob and digests.blob is not None and digests.blob.hexdigest() != file.git_blob:
        return f"git blob {digests.blob.hexdigest()[:12]}…, the hub says {file.git_blob[:12]}…"
    return None


def _hash_into(path: Path, hasher: Any) -> None:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)


class _Oversize(Exception):
    pass


def _write(out: IO[bytes], hasher: Any, chunk: bytes) -> None:
    out.write(chunk)
    hasher.update(chunk)


def _lost(file: RemoteFile, done: int, exc: BaseException | None = None) -> HubUnreachable:
    why = f" ({type(exc).__name__})" if exc else ""
    return HubUnreachable(
        f"the connection was lost while downloading {file.name}{why}, after {human_size(done)} of "
        f"{human_size(file.size)}; resume to continue from there"
    )


def _refuse(status: int, file: RemoteFile) -> None:
    """The error for a hub answer that carries no file."""
    if status in (401, 403):
        raise NeedsAccess(need_access_message(file.repo))
    if status == 404:
        raise NotOnHub(f"{file.name} is not in {file.repo} (the hub answered 404)")
    if status >= 400:
        raise HubError(f"the hub answered {status} for {file.name}; try again later")


class InsecureRedirect(HubError):
    """The hub sent a download on to an address that is not HTTPS (plain HTTP to another machine, or
    another scheme); nothing was asked of it."""


def _redirect_target(current: URL, location: str, file: RemoteFile, status: int) -> URL:
    """Where a redirect from ``current`` leads; InsecureRedirect, before anything connects there,
    unless it is HTTPS or plain HTTP to this machine."""
    if not location:
        raise HubError(f"the hub answered {status} for {file.name} without saying where to; try again later")
    try:
        target = current.join(URL(location))
        host = target.host or ""
    except ValueError:
        raise HubError(
            f"the hub sent {file.name} on to an address that is not a URL; try again later"
        ) from None
    if not transport_allowed(target.scheme, host):
        where = clean_name(f"{target.scheme}://{host}")
        raise InsecureRedirect(
            f"the hub sent the download of {file.name} on to {where}, which is not HTTPS; Hearth downloads "
            "models only over HTTPS (or plain HTTP from this machine itself), so nothing was asked of it; "
            "try again later, or another hub (HF_ENDPOINT)"
        )
    return target


@contextlib.asynccontextmanager
async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], file: RemoteFile
) -> AsyncIterator[aiohttp.ClientResponse]:
    """The answer to GET ``url``, after the redirects the hub sends (to its CDN). aiohttp would follow
    any redirect, to plain HTTP too, where the bytes could be changed on the way and the request read;
    so each is followed here, only once its target is checked, and the token goes only to the origin
    it was given for."""
    target = URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        async with session.get(target, headers=headers, allow_redirects=False) as response:
            if response.status not in _REDIRECTS:
                yield response
                return
            following = _redirect_target(target, response.headers.get("Location", ""), file, response.status)
        if following.origin() != target.origin():
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        target = following
    raise HubError(f"the hub sent {file.name} through more than {MAX_REDIRECTS} redirects; try again later")


async def _fetch(
    session: aiohttp.ClientSession, hub: Hub, file: RemoteFile, partial: Path, meter: _Meter
) -> _Digests:
    """Complete ``partial`` from the hub; returns its digests. Never more than the listed size is
    written: a hub that sends more is refused."""
    loop = asyncio.get_running_loop()
    hasher = _Digests(file)
    have = _size(partial)
    if have > file.size:
        await asyncio.to_thread(partial.unlink)
        have = 0
    if have:
        await asyncio.to_thread(_hash_into, partial, hasher)
    if have == file.size:
        return hasher
    headers = {**hub.headers(), "Range": f"bytes={have}-", "Accept-Encoding": "identity"}
    try:
        async with _get(session, hub.url(file), headers, file) as response:
            if response.status == 416:
                # The partial file is not a prefix of what the hub has now: start again.
                await asyncio.to_thread(partial.unlink, missing_ok=True)
                raise HubUnreachable(f"the hub refused to resume {file.name}; try again to start it afresh")
            _refuse(response.status, file)
            if response.status == 200 and have:
                # The server ignored Range and sends the whole file.
                meter.add(-have)
                have = 0
                hasher = _Digests(file)
            with partial.open("r+b" if have else "wb") as out:
                out.seek(have)
                out.truncate()
                pending = bytearray()
                written_at = time.monotonic()
                writing: asyncio.Future[None] | None = None
                stopped = False
                try:
                    async for piece in response.content.iter_any():
                        if have + len(pending) + len(piece) > file.size:
                            # What the listing did not declare is not written: the file is then not
                            # the one listed, and a hub could otherwise fill the disk.
                            raise _Oversize()
                        pending += piece
                        meter.add(len(piece))
                        if len(pending) >= CHUNK or time.monotonic() - written_at >= WRITE_EVERY_S:
                            chunk, have = bytes(pending), have + len(pending)
                            pending.clear()
                            # Hashing and writing a megabyte off the event loop (the window's thread).
                            writing = loop.run_in_executor(None, _write, out, hasher, chunk)
                            await asyncio.shield(writing)
                            written_at = time.monotonic()
                except asyncio.CancelledError:
                    stopped = True
                    raise
                finally:
                    # Whatever arrived is kept, even when the transfer is cancelled or cut, after the
                    # write under way: a resume asks only for what is missing.
                    if writing is not None and not writing.done():
                        await asyncio.wait([writing])
                    _write(out, hasher, bytes(pending))
                    have += len(pending)
                    out.flush()
                    # Stopped by the user (Ctrl-C, Cancel), the system keeps what was written and a
                    # resume reads it back; waiting for the disk to take a large file could take
                    # seconds on a busy one.
                    if not stopped:
                        os.fsync(out.fileno())
    except _Oversize:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        raise HashMismatch(
            f"the hub sent more of {file.name} than the {human_size(file.size)} it listed; nothing of it "
            "was kept; try again later or another repository"
        ) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _lost(file, have, exc) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise NoDiskSpace(
                f"the disk filled up while downloading {file.name}; free some space, then resume"
            ) from None
        raise
    if have != file.size:
        raise _lost(file, have)
    return hasher


def check_space(model: RemoteModel, folder: Path) -> None:
    """Refuse before starting when the disk cannot hold what is still to come."""
    missing = sum(
        f.size - _size(partial_path(local_path(folder, f)))
        for f in model.parts
        if not local_path(folder, f).exists()
    )
    where = _existing_dir(folder)
    free = shutil.disk_usage(where).free
    if missing > free:
        raise NoDiskSpace(
            f"{model.name} needs {human_size(missing)} more, but only {human_size(free)} are free on "
            f"the disk holding {where}; free some space and try again"
        )


async def download(
    hub: Hub, model: RemoteModel, folder: Path, on_progress: Callable[[Progress], None] | None = None
) -> Path:
    """Download every part of ``model`` into ``folder``, resuming what an earlier attempt left; returns
    the path of its first part. Cancelling keeps the partial files for the next attempt."""
    # Every name is checked before the first byte is written, so a bad one leaves nothing behind.
    targets = [(f, local_path(folder, f)) for f in model.parts]
    check_space(model, folder)
    done = sum(f.size if path.exists() else _size(partial_path(path)) for f, path in targets)
    meter = _Meter(model.name, model.size, done, on_progress)
    fetched: list[tuple[Path, Path]] = []
    async with aiohttp.ClientSession(timeout=_timeout()) as session:
        for file, path in targets:
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = partial_path(path)
            wrong = _verify(file, await _fetch(session, hub, file, partial, meter))
            if wrong and file.pinned:
                # Another file than the one Hearth ships a pin for: trying again fetches the same bytes,
                # so nothing of the model is kept, not even the parts that matched.
                discard(model, folder)
                raise HashMismatch(
                    f"{file.name} from {hub.endpoint} is not the file Hearth's catalog names ({wrong}); "
                    "nothing of the model was kept; update Hearth, or pick the file from a hub search"
                )
            if wrong:
                partial.unlink(missing_ok=True)
                raise HashMismatch(
                    f"{file.name} arrived damaged ({wrong}); it was removed; download it again"
                )
            if not file.verifiable:
                log.warning(
                    "%s/%s: the hub lists no SHA-256 or git blob id for it, so it is kept unverified",
                    file.repo,
                    file.name,
                )
            fetched.append((partial, path))
    for partial, path in fetched:
        os.replace(partial, path)
    meter.add(0, force=True)
    return targets[0][1]


def discard(model: RemoteModel, folder: Path) -> None:
    """Remove what a cancelled download left (its partial files)."""
    for f in model.parts:
        # A name refused as unsafe had nothing written for it.
        with contextlib.suppress(FileNotFoundError, UnsafeName):
            partial_path(local_path(folder, f)).unlink()


async def fetch_prefix(hub: Hub, file: RemoteFile, n: int) -> tuple[bytes, int]:
    """The first ``n`` bytes of a hub file (a Range request), for reading a model's header, and the
    file's whole size as the hub states it."""
    headers = {**hub.headers(), "Range": f"bytes=0-{n - 1}", "Accept-Encoding": "identity"}
    try:
        async with (
            aiohttp.ClientSession(timeout=_timeout()) as session,
            _get(session, hub.url(file), headers, file) as response,
        ):
            _refuse(response.status, file)
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            # One read returns what has arrived so far, not n bytes: read until n or the end.
            chunks, got = [], 0
            while got < n:
                chunk = await response.content.read(n - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
            data = b"".join(chunks)
            size = int(total) if total.isdigit() else (response.content_length or len(data))
            return data, size
    except (aiohttp.ClientError, TimeoutError) as exc:
        why = type(exc).__name__
        raise HubUnreachable(f"cannot reach {hub.endpoint} ({why}): check the network") from None
