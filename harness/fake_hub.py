"""A stand-in for the Hugging Face hub on 127.0.0.1, reached through ``HF_ENDPOINT``.

It answers the few requests Hearth makes: model search (``/api/models``), a repository's files with their
LFS metadata (``/api/models/{repo}/revision/{rev}?blobs=true``) and file downloads with HTTP Range
(``/{repo}/resolve/{rev}/{file}``), and it misbehaves on request: throttled, reset mid-file, corrupted
bytes, gated repositories, Range ignored. It counts the bytes it sends so tests can see what a resume cost.
It runs its own event loop on a thread, so a test's subprocesses and its Qt loop can both use it.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass, field

from aiohttp import ClientConnectionResetError, web

CHUNK = 64 * 1024


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    gated: bool = False
    license: str = "apache-2.0"
    downloads: int = 100
    plain: frozenset[str] = frozenset()  # files kept in git, not LFS: the hub lists no SHA-256 for them
    # file -> the size the listing states, when it should lie (the bytes served stay the file's)
    declared: dict[str, int] = field(default_factory=dict)
    sha: str = "0" * 40  # the commit the listing names


def git_blob_id(data: bytes) -> str:
    """A file's id in git (SHA-1 of "blob <size>\\0" and the bytes), as the hub lists it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FakeHub:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    token: str = "hf_test_token"  # what a gated repository accepts
    bytes_per_s: float = 0.0  # 0: as fast as the socket goes
    reset_after: dict[str, int] = field(
        default_factory=dict
    )  # file -> drop the connection after N bytes, once
    corrupt: set[str] = field(default_factory=set)  # files served with one byte changed
    ignore_range: bool = False
    sent: dict[str, int] = field(default_factory=dict)  # file -> bytes of it sent so far
    requests: list[str] = field(default_factory=list)
    # URL path -> bytes, served outside any repository: what a hostile mirror answers for a listed name
    # that climbs out of its repository ("../../x.gguf" reaches the server as "/x.gguf").
    loose: dict[str, bytes] = field(default_factory=dict)
    revisions: list[str] = field(default_factory=list)  # the revision each download asked for

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, repo: str, files: dict[str, bytes], **options: object) -> FakeRepo:
        self.repos[repo] = FakeRepo(files, **options)  # type: ignore[arg-type]
        return self.repos[repo]

    # --- the hub's answers ---

    async def _search(self, request: web.Request) -> web.Response:
        text = request.query.get("search", "").lower()
        limit = int(request.query.get("limit", "50"))
        found = [
            {"id": name, "downloads": repo.downloads, "likes": 1, "tags": ["gguf"], "gated": repo.gated}
            for name, repo in self.repos.items()
            if text in name.lower()
        ]
        return web.json_response(found[:limit])

    def _repo(self, request: web.Request) -> tuple[str, FakeRepo]:
        name = f"{request.match_info['owner']}/{request.match_info['name']}"
        repo = self.repos.get(name)
        if repo is None:
            raise web.HTTPNotFound(headers={"X-Error-Code": "RepoNotFound"}, text="Repository not found")
        return name, repo

    async def _info(self, request: web.Request) -> web.Response:
        name, repo = self._repo(request)
        siblings = [
            {"rfilename": f, "size": repo.declared.get(f, len(data)), "blobId": git_blob_id(data)}
            | (
                {}
                if f in repo.plain
                else {
                    "lfs": {
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "size": repo.declared.get(f, len(data)),
                        "pointerSize": 134,
                    }
                }
            )
            for f, data in repo.files.items()
        ]
        return web.json_response(
            {
                "id": name,
                "sha": repo.sha,
                "gated": "manual" if repo.gated else False,
                "cardData": {"license": repo.license},
                "tags": ["gguf"],
                "siblings": siblings,
            }
        )

    async def _resolve(self, request: web.Request) -> web.StreamResponse:
        _, repo = self._repo(request)
        filename = request.match_info["file"]
        self.requests.append(f"{request.method} {filename} {request.headers.get('Range', '')}")
        self.revisions.append(request.match_info["rev"])
        if repo.gated and request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized(
                headers={"X-Error-Code": "GatedRepo"}, text="Access to this model is restricted."
            )
        data = repo.files.get(filename)
        if data is None:
            raise web.HTTPNotFound(headers={"X-Error-Code": "EntryNotFound"}, text="Entry not found")
        return await self._send(request, filename, data)

    async def _loose(self, request: web.Request) -> web.StreamResponse:
        data = self.loose.get(request.path)
        if data is None:
            # Not counted: huggingface_hub asks for endpoints of its own that the hub stand-in lacks.
            raise web.HTTPNotFound(text="Not found")
        self.requests.append(f"{request.method} {request.path} {request.headers.get('Range', '')}")
        return await self._send(request, request.path, data)

    async def _send(self, request: web.Request, filename: str, original: bytes) -> web.StreamResponse:
        data = original
        if filename in self.corrupt:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        start, end = 0, len(data)
        status = 200
        headers = {"ETag": f'"{hashlib.sha256(original).hexdigest()}"', "Accept-Ranges": "bytes"}
        wanted = request.headers.get("Range", "")
        if wanted.startswith("bytes=") and not self.ignore_range:
            first, _, last = wanted[6:].partition("-")
            start = int(first)
            end = min(len(data), int(last) + 1) if last else len(data)
            if start >= len(data):
                raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = end - start
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        limit = self.reset_after.pop(filename, None)
        pos = start
        try:
            while pos < end:
                piece = data[pos : min(end, pos + CHUNK)]
                if limit is not None and self.sent.get(filename, 0) + len(piece) > limit:
                    assert request.transport is not None
                    request.transport.abort()  # a connection reset, as a flaky network gives
                    return response
                await response.write(piece)
                pos += len(piece)
                self.sent[filename] = self.sent.get(filename, 0) + len(piece)
                if self.bytes_per_s:
                    await asyncio.sleep(len(piece) / self.bytes_per_s)
            await response.write_eof()
        except (ConnectionError, ClientConnectionResetError):
            pass  # the client went away (a cancelled download, a header read that had enough)
        return response

    # --- running it ---

    def start(self) -> FakeHub:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_get("/api/models", self._search)
            app.router.add_get("/api/models/{owner}/{name}", self._info)
            app.router.add_get("/api/models/{owner}/{name}/revision/{rev}", self._info)
            # A file may sit in a folder of its repository, as on the real hub.
            app.router.add_route("*", "/{owner}/{name}/resolve/{rev}/{file:.+}", self._resolve)
            app.router.add_route("*", "/{path:.*}", self._loose)  # last: only what nothing else answers
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            server = site._server
            assert isinstance(server, asyncio.Server) and server.sockets
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-hub", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake hub did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
