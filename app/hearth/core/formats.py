"""The formats a model comes in, and what the runtime of each can do with it.

A format decides the runtime: a GGUF runs on llama.cpp, an MLX folder on mlx-lm. Code asks a format
what it needs to know (can it be pooled, is it mapped, can llama.cpp size it) rather than comparing
names, so a question has one answer wherever it is asked. The values are the strings the catalog, the
profile cache and the local API have always carried.
"""

from __future__ import annotations

from enum import StrEnum


class ModelFormat(StrEnum):
    GGUF = "gguf"  # one file, or the parts of a split one; run by llama.cpp here or over devices
    MLX = "mlx"  # a folder of config.json and safetensors; run by mlx-lm on this device alone

    @property
    def can_pool(self) -> bool:
        """Whether its layers can be spread over several devices: llama.cpp's RPC backend does that,
        mlx-lm runs a model on one device."""
        return self is ModelFormat.GGUF

    @property
    def mapped(self) -> bool:
        """Whether this device's weights are mapped from the file (pages the system counts as free)
        rather than copied into memory: llama.cpp maps a GGUF, mlx-lm loads its arrays."""
        return self is ModelFormat.GGUF

    @property
    def sizable(self) -> bool:
        """Whether llama.cpp's dry run can size a plan of it; MLX's memory is only the estimate."""
        return self is ModelFormat.GGUF

    @property
    def pinnable(self) -> bool:
        """Whether the catalog can pin its bytes: a GGUF's pins are one SHA-256 per part, in order; an
        MLX build is a folder whose files the hub lists only when it is downloaded."""
        return self is ModelFormat.GGUF
