"""The catalog of current families: enough of them, mixtures of experts among them, every entry resolved
against the hub stand-in and judged for fit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.fake_hub import FakeHub
from hearth.core.gguf_header import split_parts
from hearth.core.plan import HOST
from hearth.core.planner import DeviceSpec
from hearth.models import synthetic
from hearth.models.catalog import load_catalog
from hearth.models.hub import Hub
from hearth.models.remote_profile import remote_profile
from hearth.models.resolve import from_catalog
from hearth.service.fit import Verdict, fit

CURRENT = {"Qwen3", "Gemma 3", "gpt-oss", "Llama 3", "Mistral Small", "DeepSeek-R1", "Phi-4"}


def test_the_catalog_is_current() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 20
    families = {m.family for m in catalog}
    current = {f for f in CURRENT if any(x.startswith(f) for x in families)}
    assert len(current) >= 6, families
    moe = [m for m in catalog if m.experts]
    assert {m.id for m in moe} >= {"qwen3-30b-a3b", "gpt-oss-20b", "gpt-oss-120b"}
    assert all(0 < m.active_parameters_b < m.parameters_b / 4 for m in moe)
    assert any(m.parameters_b >= 70 and not m.experts for m in catalog)  # a 70B-class dense model
    for m in catalog:
        assert m.license and m.files and isinstance(m.tools, bool), m.id
        # Embedding models read passages, not conversations: their contexts are shorter.
        assert m.context >= (512 if m.embedding else 8192), m.id
    assert sum(m.tools for m in catalog) >= 10
    pooling = {m.id for m in catalog if m.suits_pooling}
    assert {m.id for m in moe} <= pooling and "llama-3.3-70b-instruct" in pooling
    assert "qwen3-0.6b" not in pooling
    embedding = [m for m in catalog if m.embedding]
    assert {m.id for m in embedding} == {"nomic-embed-text-v1.5", "bge-small-en-v1.5"}
    assert not any(m.tools or m.suits_pooling for m in embedding)


@pytest.fixture
def catalog_hub(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The stand-in holding every GGUF file the catalog names, each the tiny model (split ones in parts)."""
    parts = sorted((tmp_path / "split").glob("*.gguf"))
    if not parts:
        parts = [synthetic.write_model(tmp_path / "split" / "x-00001-of-00002.gguf", synthetic.TINY, parts=2)]
        parts = sorted((tmp_path / "split").glob("*.gguf"))
    whole = tiny_model.read_bytes()
    hub = FakeHub()
    repos: dict[str, dict[str, bytes]] = {}
    for m in load_catalog():
        if m.format != "gguf":
            continue
        for f in m.files:
            names = split_parts(f.file)
            files = repos.setdefault(m.repo, {})
            if len(names) == 1:
                files[f.file] = whole
            else:
                assert len(names) == len(parts), f.file
                files |= {n: p.read_bytes() for n, p in zip(names, parts, strict=True)}
    for repo, files in repos.items():
        hub.add(repo, files)
    hub.start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "")
    yield hub
    hub.stop()


def test_every_entry_resolves_and_its_fit_is_judged(catalog_hub: FakeHub, tmp_path: Path) -> None:
    hub = Hub()
    host = DeviceSpec(HOST, 8 << 30, 20e9)

    async def judge() -> list[tuple[str, Verdict]]:
        out = []
        for m in load_catalog():
            if m.format != "gguf":
                continue
            for f in m.files:
                model = from_catalog(hub, m, f.quant)
                assert model.name == f.file and len(model.parts) == len(split_parts(f.file)), m.id
                profile = await remote_profile(hub, model, tmp_path / "headers")
                out.append((f"{m.id}:{f.quant}", fit(profile, host, [], 512).verdict))
        return out

    verdicts = asyncio.run(judge())
    assert len(verdicts) >= 40
    assert all(v is Verdict.ALONE for _, v in verdicts)  # the stand-in's files are all the tiny model
