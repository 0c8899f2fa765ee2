"""Model names as people say them: from the repository's file, not the converter's general.name."""

from __future__ import annotations

import pytest

from hearth.core.names import file_quantization, model_details, model_display_name


@pytest.mark.parametrize(
    ("path", "name", "quant"),
    [
        ("/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct", "Q4_1"),
        ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "Qwen3-30B-A3B", "UD-Q4_K_XL"),
        ("gpt-oss-20b-MXFP4.gguf", "gpt-oss-20b", "MXFP4"),
        ("Llama-3.3-70B-Instruct-Q4_K_M-00001-of-00002.gguf", "Llama-3.3-70B-Instruct", "Q4_K_M"),
        ("C:\\models\\gemma-3-4b-it-Q4_K_M.gguf", "gemma-3-4b-it", "Q4_K_M"),
        ("phi-4-BF16.gguf", "phi-4", "BF16"),
        ("Mistral-Small-3.2-24B-Instruct-2506-IQ4_XS.gguf", "Mistral-Small-3.2-24B-Instruct-2506", "IQ4_XS"),
        ("DeepSeek-R1-Distill-Qwen-7B-Q6_K_L.gguf", "DeepSeek-R1-Distill-Qwen-7B", "Q6_K_L"),
    ],
)
def test_the_file_names_the_model(path: str, name: str, quant: str) -> None:
    assert model_display_name(path, "Smollm2 135M 8k Lc100K Mix1 Ep2") == name
    assert file_quantization(path) == quant


def test_a_file_named_only_by_its_quantization_falls_back_to_the_metadata() -> None:
    assert model_display_name("/x/Q4_K_M.gguf", "Tiny Model") == "Tiny Model"
    assert model_display_name("/x/Q4_K_M.gguf", "") == "Q4_K_M"
    assert file_quantization("/x/model.gguf") == ""


def test_details_leave_out_what_is_unknown() -> None:
    assert model_details("llama", "Q4_K_M") == "llama · Q4_K_M"
    assert model_details("llama", "?") == "llama"
