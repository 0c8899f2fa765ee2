"""MLX builds from the hub: the catalog offers them where MLX runs, their profile comes from the config
and the safetensors headers alone, and a download lands as a folder the library lists and the engine loads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hearth.core.formats import ModelFormat
from hearth.models import synthetic_mlx
from hearth.models.catalog import CatalogFile, CatalogModel
from hearth.models.hub import Hub
from hearth.models.library import ModelLibrary
from hearth.models.mlx_model import read_mlx_profile
from hearth.models.remote_profile import remote_profile
from hearth.models.resolve import from_catalog
from hearth.models.transfer import download
from hearth.store import paths

pytest.importorskip("mlx.core", reason="MLX is not installed here")
REPO = "mlx-community/Tiny-Instruct-4bit"


@pytest.fixture
def mlx_hub(fake_hub, tmp_path: Path):
    folder = synthetic_mlx.write_model(tmp_path / "source")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    files["README.md"] = b"# not part of the model\n"
    plain = frozenset(n for n in files if not n.endswith(".safetensors"))
    fake_hub.add(REPO, files, plain=plain)
    return fake_hub, folder


def test_an_mlx_build_is_profiled_from_headers_and_downloads_as_a_folder(mlx_hub) -> None:
    hub_server, source = mlx_hub
    entry = CatalogModel(
        id="tiny-mlx",
        name="Tiny (MLX)",
        family="Tiny",
        parameters_b=0.01,
        license="apache-2.0",
        context=2048,
        repo=REPO,
        files=[CatalogFile("4bit", "model.safetensors", 1)],
        format=ModelFormat.MLX,
    )

    async def scenario():
        hub = Hub()
        described = await remote_profile(hub, entry.remote())  # what the catalog row judges fit by
        model = from_catalog(hub, entry)
        path = await download(hub, model, paths.models_dir(), lambda p: None)
        return described, model, path

    described, model, path = asyncio.run(scenario())
    local = read_mlx_profile(source)
    assert described.format == "mlx" and described.layer_bytes == local.layer_bytes
    assert (described.vocab_size, described.has_chat_template) == (local.vocab_size, True)
    # Only the safetensors header was read, never the weights.
    weights = [r for r in hub_server.requests if "model.safetensors" in r]
    assert weights and all("bytes=0-" in r for r in weights)

    assert model.format == "mlx" and model.name == "model.safetensors"
    assert {p.name for p in model.parts} == {p.name for p in source.iterdir()}  # no README
    assert [p.sha256 is None for p in model.parts].count(False) == 1  # only the weights are in LFS
    folder = path.parent
    assert folder == paths.models_dir() / "mlx-community" / "Tiny-Instruct-4bit"
    entries = ModelLibrary().entries()
    assert [e.path for e in entries] == [str(folder)]
    assert entries[0].profile is not None and entries[0].profile.layer_bytes == local.layer_bytes
    assert (folder / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()
