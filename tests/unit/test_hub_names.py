"""Which names from a hub may become paths in the models folder: plain ones, the catalog's among them."""

from __future__ import annotations

import pytest

from hearth.models.catalog import load_catalog
from hearth.models.hub import UnsafeName, check_file_name, check_repo_id


@pytest.mark.parametrize(
    "name",
    [
        "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf",
        "Q4_K_M/Model-Q4_K_M-00001-of-00002.gguf",  # a folder inside the repository
        "model.safetensors",
        "tokenizer_config.json",
        "a name with spaces.gguf",
        "модель-Q8_0.gguf",
        "<b>x</b><img src=x>.gguf",  # markup is shown as text, but it is a plain name
        "...gguf",
        "CONSOLE.gguf",
    ],
)
def test_plain_names_pass(name: str) -> None:
    assert check_file_name("owner/repo", name) == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../../../../escaped/hearth-poc.gguf", "climbs out of the repository with '..'"),
        ("sub/../../x.gguf", "climbs out"),
        ("..", "climbs out"),
        ("/etc/x.gguf", "root of the disk"),
        ("", "empty"),
        ("a//b.gguf", "empty part"),
        ("a/./b.gguf", "empty part"),
        ("a/", "empty part"),
        ("..\\..\\x.gguf", "backslash"),
        ("C:\\x.gguf", "backslash"),
        ("C:x.gguf", "colon"),
        ("x.gguf:stream", "colon"),
        ("x\x00.gguf", "control character"),
        ("x\x1b[2J.gguf", "control character"),
        ("x\x7f.gguf", "control character"),
        ("x\u0085.gguf", "control character"),
        ("nul", "device on Windows"),
        ("sub/COM1.gguf", "device on Windows"),
        ("aux .txt", "device on Windows"),
        ("x" * 256 + ".gguf", "longer than 255 bytes"),
    ],
)
def test_unsafe_names_are_refused_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(UnsafeName) as refused:
        check_file_name("owner/repo", name)
    message = str(refused.value)
    assert why in message
    assert "is not a plain file name inside the repository" in message
    assert message.endswith("nothing was written")
    # The name is quoted with its control characters escaped: the message is one plain line.
    assert all(ch.isprintable() for ch in message)


@pytest.mark.parametrize(
    "repo", ["bartowski/Llama-3.2-1B-Instruct-GGUF", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "gpt2"]
)
def test_repository_ids_as_the_hub_has_them_pass(repo: str) -> None:
    assert check_repo_id(repo) == repo


@pytest.mark.parametrize(
    "repo",
    [
        "",
        "..",
        "../x",
        "owner/..",
        "owner/x..y",
        "/owner/repo",
        "owner/repo/",
        "a/b/c",
        "owner/.git",
        "o\\r/x",
        "owner/-x",
        "owner/x.",
        "ow ner/x",
        "owner/x\n",
        "o" * 97,
    ],
)
def test_other_repository_ids_are_refused(repo: str) -> None:
    with pytest.raises(UnsafeName, match="is not a hub repository id"):
        check_repo_id(repo)


def test_every_catalog_entry_names_plain_paths() -> None:
    for entry in load_catalog():
        check_repo_id(entry.repo)
        for file in entry.files:
            for part in entry.remote(file.quant).parts:
                check_file_name(entry.repo, part.name)
