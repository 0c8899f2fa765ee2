"""The offline GPU bundle builds llama.cpp as Hearth's own build does, at the pinned versions."""

from __future__ import annotations

import importlib.metadata

from scripts import gpu_bundle


def test_the_bundle_builds_the_pinned_llama_cpp_with_the_projects_own_flags() -> None:
    assert gpu_bundle._pinned_llama() == importlib.metadata.version("llama-cpp-python")
    flags = gpu_bundle._base_cmake().split()
    assert {"-DGGML_RPC=ON", "-DGGML_NATIVE=OFF", "-DGGML_BACKEND_DL=ON"} <= set(flags)
    # The wheels it carries are the versions the project runs with here.
    for name, version in gpu_bundle._locked(gpu_bundle.WHEELS).items():
        assert importlib.metadata.version(name) == version, name
    # Nothing the build reads is left out: llama.cpp's own sources and ggml's stay.
    assert not any(
        part.startswith(("vendor/llama.cpp/ggml", "vendor/llama.cpp/src")) for part in gpu_bundle.UNREAD
    )
