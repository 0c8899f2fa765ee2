"""A hub that lists hostile names or serves hostile headers: nothing lands outside the models folder, the
refusal says why, and a header built to be expensive is refused cheaply, off the event loop's thread.

The hub is the stand-in from ``harness.fake_hub`` (any ``HF_ENDPOINT`` mirror can answer this way); the
transfer, the CLI and the downloads service are the real ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hearth.core import gguf_header
from hearth.core.gguf_header import GGUFError
from hearth.models import remote_profile as remote_profile_module
from hearth.models.hub import Hub, RemoteFile, RemoteModel, UnsafeName
from hearth.models.remote_profile import remote_profile
from hearth.models.transfer import download
from hearth.service.downloads import Downloads, State
from hearth.store import paths

EVIL = "test/evil-GGUF"
CLIMBER = "../../../../../escaped/hearth-poc.gguf"


@pytest.fixture
def deep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder deep enough in this test's own folder that a name climbing five levels out of a
    repository still lands inside ``tmp_path``, where the test can look for it."""
    home = tmp_path / "a" / "b" / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


def _escaped() -> Path:
    """Where the climbing name would have been written."""
    return Path(os.path.normpath(paths.models_dir() / EVIL / CLIMBER))


def _everything(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _serve_climber(fake_hub, tiny_model: Path) -> bytes:
    data = tiny_model.read_bytes()
    fake_hub.add(EVIL, {CLIMBER: data})
    # The client normalises "/test/evil-GGUF/resolve/main/../../../../../escaped/…" to "/escaped/…".
    fake_hub.loose["/escaped/hearth-poc.gguf"] = data
    return data


def test_cli_pull_of_a_listing_that_climbs_out_writes_nothing_and_says_why(
    fake_hub, tiny_model, deep_home, tmp_path
) -> None:
    _serve_climber(fake_hub, tiny_model)
    escaped = _escaped()
    assert tmp_path in escaped.parents and not escaped.is_relative_to(paths.models_dir())
    before = _everything(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "hearth", "models", "pull", EVIL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"the hub listed a file named '{CLIMBER}'" in done.stderr
    assert "not a plain file name inside the repository" in done.stderr
    assert "'..'" in done.stderr and "nothing was written" in done.stderr
    assert not escaped.exists() and not escaped.parent.exists()
    assert _everything(paths.models_dir()) == []
    assert _everything(tmp_path) == before
    assert not [r for r in fake_hub.requests if "escaped" in r]  # not even asked for


def test_the_service_download_path_refuses_a_climbing_name_and_leaves_nothing(
    fake_hub, tiny_model, deep_home, tmp_path
) -> None:
    data = _serve_climber(fake_hub, tiny_model)
    escaped = _escaped()  # made the models folder: it is allowed to exist
    # The window lists a repository's models through the hub, which refuses the listing whole.
    with pytest.raises(UnsafeName, match=r"climbs out of the repository"):
        Hub().models(EVIL)
    # A model that reached the downloads some other way (a stale catalog, a typed reference) meets
    # the same check in the transfer before anything is written.
    model = RemoteModel(EVIL, (RemoteFile(EVIL, CLIMBER, len(data), hashlib.sha256(data).hexdigest()),))
    before = _everything(tmp_path)
    changes: list[State] = []

    async def run() -> None:
        downloads = Downloads(paths.models_dir, Hub, lambda job: changes.append(job.state))
        job = downloads.start(model)
        assert job.task is not None
        await asyncio.wait_for(job.task, 30)
        assert job.state is State.FAILED
        assert "not a plain file name inside the repository" in job.error
        assert "nothing was written" in job.error
        await downloads.cancel(job.key)  # removing what it left: there is nothing, and no error

    asyncio.run(run())
    assert changes[-1] is State.FAILED
    assert not escaped.exists() and not escaped.parent.exists()
    assert _everything(tmp_path) == before
    assert not [r for r in fake_hub.requests if "escaped" in r]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/abs/x.gguf", "root of the disk"),
        ("sub\\..\\..\\x.gguf", "backslash"),
        ("C:x.gguf", "colon"),
        ("a//x.gguf", "empty part"),
        ("x\x00.gguf", "control character"),
        ("x\n.gguf", "control character"),
        ("NUL.gguf", "device on Windows"),
    ],
)
def test_every_kind_of_unsafe_name_in_a_listing_is_refused(fake_hub, tiny_model, name: str, why: str) -> None:
    fake_hub.add(EVIL, {name: b"GGUF", "Fine-Q8_0.gguf": tiny_model.read_bytes()})
    with pytest.raises(UnsafeName, match=why) as refused:
        Hub().model(EVIL)
    assert "nothing was written" in str(refused.value)
    assert "\n" not in str(refused.value) and "\x00" not in str(refused.value)
    assert _everything(paths.models_dir()) == []


def test_a_repository_id_that_is_not_one_is_refused_before_the_hub_is_asked(fake_hub) -> None:
    for repo in ("../outside", "owner/..", "owner/name/extra", "owner/.hidden", "a\\b/c", ""):
        with pytest.raises(UnsafeName, match="is not a hub repository id"):
            Hub().models(repo)
    assert fake_hub.requests == []
    # A search that answers with such ids (a terminal escape among them) lists only real repositories.
    fake_hub.add("test/tiny-evil..", {})
    fake_hub.add("test/\x1b[2Jtiny", {})
    assert [r.repo for r in Hub().search("tiny")] == ["test/tiny-GGUF"]


def test_a_symlink_inside_the_models_folder_cannot_lead_a_download_elsewhere(fake_hub, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    owner = paths.models_dir() / "test"
    owner.mkdir(parents=True)
    (owner / "tiny-GGUF").symlink_to(elsewhere, target_is_directory=True)
    model = Hub().model("test/tiny-GGUF", "Q8_0")
    with pytest.raises(UnsafeName, match=r"outside the models folder .* nothing was written"):
        asyncio.run(download(Hub(), model, paths.models_dir()))
    assert list(elsewhere.iterdir()) == []
    assert fake_hub.requests == []


# --- headers -------------------------------------------------------------------------------------------


def _nested_booleans() -> bytes:
    """16 MiB of header: one array of 16k arrays of 1,024 booleans (13 s and 244 MB for the old reader)."""
    key = b"k"
    inner = struct.pack("<IQ", 7, 1024) + b"\1" * 1024
    kv = struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, 9, 16384) + inner * 16384
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv + b"\0" * 1024


def test_a_hostile_hub_header_is_refused_after_one_read_and_parsed_off_the_loop(
    fake_hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub.add("test/heavy-GGUF", {"Heavy-Q8_0.gguf": _nested_booleans()})
    threads: list[threading.Thread] = []
    real_parse = gguf_header.parse  # the parser remote_profile imported

    def watched_parse(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_parse(*args, **kwargs)

    # Only watched: the real parser runs; the test learns which thread it ran on.
    monkeypatch.setattr(remote_profile_module, "parse", watched_parse)

    async def profile() -> threading.Thread:
        hub = Hub()
        with pytest.raises(GGUFError, match=r"array of arrays, which llama\.cpp does not load"):
            await remote_profile(hub, hub.model("test/heavy-GGUF"))
        return threading.current_thread()

    loop_thread = asyncio.run(profile())
    assert threads and all(t is not loop_thread for t in threads)
    assert len([r for r in fake_hub.requests if "Heavy" in r]) == 1  # refused from the first read
