"""Catalog entries resolved against the hub, and deleting what was downloaded."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys

import pytest

from hearth.models.catalog import CatalogFile, CatalogModel
from hearth.models.hub import Hub, HubError
from hearth.models.library import ModelLibrary
from hearth.models.resolve import from_catalog, resolve
from hearth.models.transfer import download
from hearth.store import paths

REPO = "test/tiny-GGUF"


def _entry(file: str, quant: str, sha256: str | None = None) -> CatalogModel:
    return CatalogModel(
        "tiny", "Tiny", "Test", 0.001, "apache-2.0", 512, REPO, [CatalogFile(quant, file, 1, sha256)]
    )


def test_catalog_entries_resolve_to_the_hubs_files(fake_hub):
    hub = Hub()
    named = from_catalog(hub, _entry("Tiny-Q8_0.gguf", "Q8_0"))
    assert named.name == "Tiny-Q8_0.gguf" and named.parts[0].sha256
    # A file renamed on the hub: the same quantization under its new name.
    renamed = from_catalog(hub, _entry("tiny-q4_k_m-00001-of-00002.gguf", "Q4_K_M"))
    assert len(renamed.parts) == 2
    # A hash pinned in the catalog must agree with the hub's.
    with pytest.raises(HubError, match="SHA-256 differs"):
        from_catalog(hub, _entry("Tiny-Q8_0.gguf", "Q8_0", sha256="0" * 64))
    pinned = from_catalog(hub, _entry("Tiny-Q8_0.gguf", "Q8_0", named.parts[0].sha256))
    assert pinned.parts[0].pinned and not named.parts[0].pinned
    assert dataclasses.replace(pinned.parts[0], pinned=False) == named.parts[0]
    # References as `hearth models pull` takes them.
    assert resolve(hub, f"{REPO}/Tiny-Q8_0.gguf", []) == named
    assert resolve(hub, f"{REPO}:q8_0", []) == named
    assert resolve(hub, "tiny", [_entry("Tiny-Q8_0.gguf", "Q8_0")]) == named


def test_rm_deletes_every_part_and_forgets_imports(fake_hub, tiny_model):
    model = Hub().model(REPO, "Q4_K_M")
    first = asyncio.run(download(Hub(), model, paths.models_dir()))
    ModelLibrary().import_file(str(tiny_model))
    assert ModelLibrary().paths() == [str(first), str(tiny_model)]
    for name in (first.name, str(tiny_model)):
        done = subprocess.run(
            [sys.executable, "-m", "hearth", "models", "rm", name], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    assert ModelLibrary().paths() == []
    assert not (paths.models_dir() / "test").exists()  # no empty folders left
    assert tiny_model.exists()  # an imported file is the user's: only forgotten
    missing = subprocess.run(
        [sys.executable, "-m", "hearth", "models", "rm", "nothing.gguf"], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no model called 'nothing.gguf'" in missing.stderr
