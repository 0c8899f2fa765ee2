"""The shipped catalog, file-name rules for hub models, and reading a header from a file's first bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hearth.core.gguf_header import NeedMoreBytes, is_later_part, parse, read_header, split_parts
from hearth.models.catalog import CatalogError, load_catalog, matching
from hearth.models.hub import quant_of
from hearth.models.library import same_model_key


def test_the_shipped_catalog_is_sound() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 10
    assert len({m.id for m in catalog}) == len(catalog)
    sizes = [m.parameters_b for m in catalog]
    assert sizes == sorted(sizes) and sizes[0] < 1 and sizes[-1] >= 70  # small to 70B class
    assert len({m.family for m in catalog}) >= 4
    for m in catalog:
        assert m.repo.count("/") == 1 and m.license and m.context > 0 and m.files
        if m.format == "mlx":  # an MLX build: one repository per quantization, named in it
            assert m.repo.startswith("mlx-community/") and all(f.quant in m.repo for f in m.files), m.id
            assert all(f.file.endswith(".safetensors") for f in m.files)
            continue
        for f in m.files:
            assert quant_of(f.file) == f.quant, f.file
            assert f.size > 0 and not is_later_part(f.file)
        assert {f.quant for f in m.files} & {"Q4_K_M"}
    assert {m.format for m in catalog} == {"gguf", "mlx"}
    assert any(len(split_parts(f.file)) > 1 for m in catalog for f in m.files)  # a split one is offered
    assert [m.id for m in matching(catalog, "qwen3 8b")] == ["qwen3-8b"]


def test_every_summary_is_said_in_every_language_of_the_window() -> None:
    for model in load_catalog():
        assert model.summary and set(model.summaries) == {"ru", "zh_CN", "ko"}, model.id
        assert all(text and text != model.summary for text in model.summaries.values()), model.id
        assert model.summary_in("ru") == model.summaries["ru"] and model.summary_in("en") == model.summary


def test_a_damaged_catalog_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.json"
    bad.write_text('{"about": "", "models": [{"id": "x"}]}')
    with pytest.raises(CatalogError, match="damaged"):
        load_catalog(bad)


def _catalog_with(tmp_path: Path, file: str, sha256: object, format: str = "gguf") -> Path:
    entry = {
        "id": "x",
        "name": "X",
        "family": "X",
        "parameters_b": 1,
        "license": "mit",
        "context": 512,
        "repo": "o/x",
        "format": format,
        "files": [
            {"quant": "Q4_K_M", "file": file, "size": 10} | ({} if sha256 is None else {"sha256": sha256})
        ],
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"about": "", "models": [entry]}))
    return path


SPLIT = "x-Q4_K_M-00001-of-00002.gguf"


def test_pins_are_per_part_and_carried_to_every_part(tmp_path: Path) -> None:
    (single,) = load_catalog(_catalog_with(tmp_path, "x-Q4_K_M.gguf", "AB" * 32))
    assert single.files[0].pins() == ("ab" * 32,)
    (split,) = load_catalog(_catalog_with(tmp_path, SPLIT, ["a" * 64, "b" * 64]))
    remote = split.remote()
    assert [(p.name, p.sha256, p.pinned) for p in remote.parts] == [
        (SPLIT, "a" * 64, True),
        ("x-Q4_K_M-00002-of-00002.gguf", "b" * 64, True),
    ]
    # Unpinned: nothing pinned, the hub's listing is what the download is checked against.
    (unpinned,) = load_catalog(_catalog_with(tmp_path, SPLIT, None))
    assert unpinned.files[0].pins() == () and unpinned.files[0].pin_problem() == ""
    assert [(p.sha256, p.pinned) for p in unpinned.remote().parts] == [(None, False), (None, False)]
    # Every entry shipped is unpinned or pinned whole (load_catalog refuses anything else).
    assert all(f.pin_problem(m.format) == "" for m in load_catalog() for f in m.files)


@pytest.mark.parametrize(
    ("file", "sha256", "format", "why"),
    [
        (SPLIT, "a" * 64, "gguf", r"comes in 2 part\(s\) but 1 sha256 are given: pin every part"),
        (SPLIT, ["a" * 64], "gguf", r"comes in 2 part\(s\) but 1 sha256"),
        (SPLIT, [], "gguf", r"comes in 2 part\(s\) but 0 sha256"),
        ("x-Q4_K_M.gguf", ["a" * 64, "b" * 64], "gguf", r"comes in 1 part\(s\) but 2 sha256"),
        ("x-Q4_K_M.gguf", "a" * 63, "gguf", "not 64 hexadecimal digits"),
        ("x-Q4_K_M.gguf", "g" * 64, "gguf", "not 64 hexadecimal digits"),
        ("model.safetensors", "a" * 64, "mlx", "only GGUF files can be pinned"),
    ],
)
def test_pins_that_cannot_hold_make_the_catalog_damaged(
    tmp_path: Path, file: str, sha256: object, format: str, why: str
) -> None:
    with pytest.raises(CatalogError, match=rf"damaged: x Q4_K_M's sha256 cannot pin .*{why}"):
        load_catalog(_catalog_with(tmp_path, file, sha256, format))


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf", "Q5_K_M"),
        ("model-IQ4_XS.gguf", "IQ4_XS"),
        ("gemma-2-9b-it-f16.gguf", "F16"),
        ("model.Q8_0.gguf", "Q8_0"),
        ("plain.gguf", ""),
    ],
)
def test_quantization_from_file_names(name: str, quant: str) -> None:
    assert quant_of(name) == quant


def test_split_part_names() -> None:
    assert split_parts("a/m-00001-of-00003.gguf") == [
        "a/m-00001-of-00003.gguf",
        "a/m-00002-of-00003.gguf",
        "a/m-00003-of-00003.gguf",
    ]
    assert split_parts("m-00002-of-00003.gguf") == ["m-00002-of-00003.gguf"]
    assert split_parts("m.gguf") == ["m.gguf"]
    assert is_later_part("m-00002-of-00003.gguf") and not is_later_part("m-00001-of-00003.gguf")


def test_a_header_read_from_the_first_bytes_asks_for_more_until_it_ends(tiny_model: Path) -> None:
    data = tiny_model.read_bytes()
    whole = read_header(tiny_model)
    n = 64
    for _ in range(20):
        try:
            header = parse(data[:n], len(data), "prefix", available=n)
            break
        except NeedMoreBytes as more:
            needed = more.needed
        assert needed > n
        n = max(needed, 2 * n)
    else:
        pytest.fail("the header never ended")
    assert n < 2 * whole.data_offset  # the weights were never needed
    assert header.tensors == whole.tensors and header.metadata == whole.metadata


def test_a_damaged_mlx_folder_is_refused_with_the_reason(tmp_path: Path) -> None:
    import json
    import re

    from hearth.core.gguf_header import GGUFError
    from hearth.models.library import profile_of

    folder = tmp_path / "broken-mlx"
    folder.mkdir()
    config = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 10}
    (folder / "config.json").write_text(json.dumps(config))
    weights = folder / "model.safetensors"
    table = {"model.layers.0.mlp.w": {"dtype": "F16", "shape": [2, "x"], "data_offsets": [0, 8]}}
    header = json.dumps(table).encode()
    weights.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 8)
    with pytest.raises(GGUFError, match=re.escape("malformed entry for 'model.layers.0.mlp.w'")):
        profile_of(str(folder))
    weights.write_bytes(b"\xff" * 8)
    with pytest.raises(GGUFError, match="not a safetensors file"):
        profile_of(str(folder))
    weights.write_bytes((5).to_bytes(8, "little") + b"[1,2]")
    with pytest.raises(GGUFError, match="not a table of tensors"):
        profile_of(str(folder))
    weights.write_bytes((2).to_bytes(8, "little") + b"{}")  # sound weights: now the config is wrong
    (folder / "config.json").write_text(json.dumps({**config, "num_attention_heads": 0}))
    with pytest.raises(GGUFError, match=re.escape("config.json does not describe a model")):
        profile_of(str(folder))
    (folder / "config.json").write_text("[]")
    with pytest.raises(GGUFError, match=re.escape("config.json does not describe a model")):
        profile_of(str(folder))


@pytest.mark.parametrize(
    ("mlx", "gguf"),
    [
        ("Qwen2.5-0.5B-Instruct-4bit", "Qwen2.5 0.5B Instruct"),
        ("Llama-3.2-3B-Instruct-8bit", "Llama 3.2 3B Instruct"),
    ],
)
def test_builds_of_one_model_share_a_key(mlx: str, gguf: str) -> None:
    assert same_model_key(mlx) == same_model_key(gguf)
    assert same_model_key("Qwen2.5 7B Instruct") != same_model_key(gguf)
