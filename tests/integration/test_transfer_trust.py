"""What a download is held to: the catalog's pins on every part, whatever the hub lists; a file the
hub lists with nothing to check it against; redirects only to HTTPS or to this machine.

The hub is the stand-in from ``harness.fake_hub`` (or a small redirecting server here), on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import socket
from pathlib import Path

import aiohttp.resolver
import pytest
from aiohttp import web

from hearth.models.catalog import CatalogFile, CatalogModel
from hearth.models.hub import Hub, HubError, RemoteFile, RemoteModel
from hearth.models.library import ModelLibrary
from hearth.models.resolve import from_catalog
from hearth.models.transfer import HashMismatch, InsecureRedirect, download, fetch_prefix
from hearth.store import paths

REPO = "test/tiny-GGUF"
SPLIT = ("Tiny-Q4_K_M-00001-of-00002.gguf", "Tiny-Q4_K_M-00002-of-00002.gguf")
OTHER = "ab" * 32  # the SHA-256 of no file here


def _entry(file: str, quant: str, sha256: str | list[str] | None) -> CatalogModel:
    return CatalogModel(
        "tiny", "Tiny", "Test", 0.001, "apache-2.0", 512, REPO, [CatalogFile(quant, file, 1, sha256)]
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers() -> list[str]:
    root = paths.models_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def no_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub's listings give neither an LFS SHA-256 nor a git blob id (a mirror that leaves them out)."""
    listing = Hub._listing

    def stripped(self: Hub, repo: str, revision: str) -> tuple[dict[str, RemoteFile], bool, str]:
        files, gated, license = listing(self, repo, revision)
        bare = {n: dataclasses.replace(f, sha256=None, git_blob=None) for n, f in files.items()}
        return bare, gated, license

    monkeypatch.setattr(Hub, "_listing", stripped)


def _pull(model: RemoteModel) -> Path:
    return asyncio.run(download(Hub(), model, paths.models_dir()))


# --- the catalog's pins ---


def test_a_pin_is_enforced_when_the_hub_lists_no_sha256(fake_hub, no_hashes):
    entry = _entry("Tiny-Q8_0.gguf", "Q8_0", OTHER)
    model = from_catalog(Hub(), entry)
    assert model.parts[0].sha256 == OTHER and model.parts[0].pinned and not model.unverified
    with pytest.raises(
        HashMismatch, match=r"not the file Hearth's catalog names .*the catalog pins abababab"
    ):
        _pull(model)
    assert _leftovers() == []  # not even a partial file, and certainly no finished model
    assert ModelLibrary().paths() == []
    # The right pin: the same listing downloads.
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    path = _pull(from_catalog(Hub(), _entry("Tiny-Q8_0.gguf", "Q8_0", _sha(data).upper())))
    assert path.read_bytes() == data and ModelLibrary().paths() == [str(path)]


def test_a_pin_is_enforced_on_a_file_the_hub_keeps_in_git(fake_hub):
    # Listed with a git blob id and no SHA-256: the bytes match the blob id, but not the pin.
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    fake_hub.add(REPO, {"Tiny-Q8_0.gguf": data}, plain=frozenset({"Tiny-Q8_0.gguf"}))
    model = from_catalog(Hub(), _entry("Tiny-Q8_0.gguf", "Q8_0", OTHER))
    assert model.parts[0].git_blob and model.parts[0].sha256 == OTHER
    with pytest.raises(HashMismatch, match=r"not the file Hearth's catalog names"):
        _pull(model)
    assert _leftovers() == [] and ModelLibrary().paths() == []


def test_every_part_of_a_split_model_is_held_to_its_pin(fake_hub, no_hashes):
    files = fake_hub.repos[REPO].files
    first, second = (_sha(files[name]) for name in SPLIT)
    # The second part is not the pinned one: the first, though it matched, is not kept either.
    model = from_catalog(Hub(), _entry(SPLIT[0], "Q4_K_M", [first, OTHER]))
    assert [p.sha256 for p in model.parts] == [first, OTHER]
    with pytest.raises(HashMismatch, match=rf"{SPLIT[1]} .* not the file Hearth's catalog names"):
        _pull(model)
    assert fake_hub.sent.get(SPLIT[1]) == len(files[SPLIT[1]])  # it was the bytes, not a refusal up front
    assert _leftovers() == [] and ModelLibrary().paths() == []
    # A pin for the first part only leaves the second unpinned: refused before anything is fetched.
    fake_hub.requests.clear()
    with pytest.raises(HubError, match=r"comes in 2 part\(s\), but Hearth's catalog pins 1"):
        from_catalog(Hub(), _entry(SPLIT[0], "Q4_K_M", first))
    assert fake_hub.requests == []
    path = _pull(from_catalog(Hub(), _entry(SPLIT[0], "Q4_K_M", [first, second])))
    assert ModelLibrary().paths() == [str(path)]


def test_a_pin_that_disagrees_with_any_listed_hash_is_refused_before_downloading(fake_hub):
    files = fake_hub.repos[REPO].files
    with pytest.raises(HubError, match=rf"{SPLIT[1]} on the hub is not the file the catalog names"):
        from_catalog(Hub(), _entry(SPLIT[0], "Q4_K_M", [_sha(files[SPLIT[0]]), OTHER]))
    assert fake_hub.requests == []


def test_an_unpinned_entry_is_verified_against_the_hubs_listing(fake_hub):
    model = from_catalog(Hub(), _entry("Tiny-Q8_0.gguf", "Q8_0", None))
    assert model.parts[0].sha256 and not model.parts[0].pinned
    fake_hub.corrupt.add("Tiny-Q8_0.gguf")
    with pytest.raises(HashMismatch, match=r"arrived damaged \(SHA-256 .*the hub says"):
        _pull(model)
    assert _leftovers() == []


# --- nothing to verify against ---


def test_a_file_listed_without_any_hash_is_kept_but_said_to_be_unverified(fake_hub, no_hashes, caplog):
    model = Hub().model(REPO, "Q8_0")
    assert model.unverified == ("Tiny-Q8_0.gguf",)
    with caplog.at_level(logging.WARNING, logger="hearth.models.transfer"):
        path = _pull(model)
    assert path.read_bytes() == fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"{REPO}/Tiny-Q8_0.gguf: the hub lists no SHA-256 or git blob id for it, so it is kept unverified"
    ]


def test_a_file_with_a_hash_is_not_said_to_be_unverified(fake_hub, caplog):
    model = Hub().model(REPO, "Q4_K_M")
    assert model.unverified == ()
    with caplog.at_level(logging.WARNING, logger="hearth.models.transfer"):
        _pull(model)
    assert not [r for r in caplog.records if "unverified" in r.getMessage()]


# --- redirects ---

ELSEWHERE = "cdn.models-mirror.example"  # a name that is no loopback address, resolved to a trap below


async def test_a_redirect_to_plain_http_elsewhere_is_refused_before_connecting(monkeypatch):
    data = b"GGUF" + bytes(range(256)) * 4
    seen: list[tuple[str, str | None]] = []  # (path, Authorization) as each request arrived
    trapped: list[object] = []

    async def trap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        trapped.append(writer.get_extra_info("peername"))
        writer.close()

    # Should the check fail, the name leads to this trap on loopback, never off the machine: that
    # needs aiohttp to look names up through socket.getaddrinfo, as its threaded resolver does.
    assert aiohttp.resolver.DefaultResolver is aiohttp.resolver.ThreadedResolver
    trap_server = await asyncio.start_server(trap, "127.0.0.1", 0)
    trap_port = trap_server.sockets[0].getsockname()[1]
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list:
        if isinstance(host, (str, bytes)) and ELSEWHERE in str(host):
            looked_up.append(str(host))
            return real_getaddrinfo("127.0.0.1", trap_port, *args, **kwargs)  # type: ignore[arg-type]
        return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    async def serve(request: web.Request) -> web.StreamResponse:
        seen.append((request.path, request.headers.get("Authorization")))
        name = request.path.rsplit("/", 1)[-1]
        if request.path.startswith("/final/"):
            return web.Response(body=data)
        moves = {
            "evil.gguf": f"http://{ELSEWHERE}:{trap_port}/evil.gguf",
            "ftp.gguf": f"ftp://{ELSEWHERE}/ftp.gguf",
            "loop.gguf": request.path,
            "empty.gguf": "",
        }
        if request.path.startswith("/cdn/"):
            # On to another origin on this machine (another port): the token stays behind.
            raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{cdn_port}/final/{name}")
        if name in moves:
            return web.Response(status=302, headers={"Location": moves[name]})
        raise web.HTTPFound(f"/cdn/{name}")  # relative, as some CDNs answer

    app = web.Application()
    app.router.add_get("/{path:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port, cdn_port = (address[1] for address in runner.addresses)
    try:
        hub = Hub(endpoint=f"http://127.0.0.1:{port}", token="hf_secret")

        def model(name: str) -> RemoteModel:
            return RemoteModel(
                "test/moved-GGUF", (RemoteFile("test/moved-GGUF", name, len(data), _sha(data)),)
            )

        for name in ("evil.gguf", "ftp.gguf"):
            with pytest.raises(InsecureRedirect, match=rf"{name} on to .*{ELSEWHERE}, which is not HTTPS"):
                await download(hub, model(name), paths.models_dir())
            with pytest.raises(InsecureRedirect, match=r"not HTTPS"):
                await fetch_prefix(hub, model(name).parts[0], 64)
        with pytest.raises(HubError, match=r"more than 5 redirects"):
            await download(hub, model("loop.gguf"), paths.models_dir())
        with pytest.raises(HubError, match=r"without saying where to"):
            await download(hub, model("empty.gguf"), paths.models_dir())
        await asyncio.sleep(0.2)  # a connection under way would have reached the trap by now
        assert trapped == [] and looked_up == []
        assert _leftovers() == []
        # Redirects that stay on HTTPS or on this machine are followed, and the token goes only to
        # the origin it was given for.
        seen.clear()
        path = await download(hub, model("ok.gguf"), paths.models_dir())
        assert path.read_bytes() == data
        assert seen == [
            ("/test/moved-GGUF/resolve/main/ok.gguf", "Bearer hf_secret"),
            ("/cdn/ok.gguf", "Bearer hf_secret"),
            ("/final/ok.gguf", None),
        ]
    finally:
        await runner.cleanup()
        trap_server.close()
        await trap_server.wait_closed()
