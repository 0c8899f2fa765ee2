"""Which weights llama.cpp's CPU backend copies into a repacked layout, and what that costs in memory.

On CPUs with the right instructions the CPU backend re-lays some quantized weight matrices, interleaving
rows so that its matrix kernels read them in one pass (the ``CPU_REPACK`` buffer type). It does so while
loading, for every matrix whose type and row count its kernels take. With the file memory-mapped (the
default) the copy sits beside the mapping, which still spans those weights: they count twice. Read
without a mapping, the matrix is loaded straight into the repacked buffer and counts once. A model
whose output head is its token embedding (tied) gets a repacked copy of the embedding for the head
either way, since the embedding itself stays where row lookups can read it.

The rules follow ``ggml_repack_get_optimal_repack_type`` in ggml-cpu/repack.cpp of the vendored
llama.cpp, decided by the instruction sets the *loaded CPU variant* was compiled for (which is what
``ggml_backend_get_features`` reports). Only the device that runs llama.cpp's CPU backend repacks: the
host's own CPU, for its layers and the output head (a pooled load pins the head to the CPU buffer type,
which llama.cpp takes as "the CPU, extra buffer types included"). A worker serves its device through
the RPC backend, whose buffers are plain. A build with a GPU backend offers that GPU's pinned host
buffer to a local load's CPU layers ahead of the repacked one, so those do not repack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Matrix:
    """A weight llama.cpp multiplies by (2-D, or 3-D for a mixture of experts): one the CPU may repack."""

    type_name: str  # ggml's name, e.g. "Q4_0"
    rows: int  # ne[1]: the kernels interleave rows in groups, so the count must divide evenly
    nbytes: int


@dataclass(frozen=True)
class RepackRules:
    """Weight types the CPU backend repacks, each with the row multiple its kernels need."""

    rows_multiple: tuple[tuple[str, int], ...] = ()
    # False where a GPU backend's host buffer comes first for a local load's CPU layers (see above).
    local_loads: bool = True

    def __bool__(self) -> bool:
        return bool(self.rows_multiple)

    def takes(self, matrix: Matrix) -> bool:
        multiple = dict(self.rows_multiple).get(matrix.type_name)
        return multiple is not None and matrix.rows % multiple == 0

    def repacked_bytes(self, matrices: Iterable[Matrix]) -> int:
        # The repacked buffer aligns each tensor as the CPU's does (32 bytes).
        return sum(-(-m.nbytes // ALIGNMENT) * ALIGNMENT for m in matrices if self.takes(m))

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(sorted(kind for kind, _ in self.rows_multiple))


ALIGNMENT = 32
NO_REPACK = RepackRules()


def _merge(rules: dict[str, int], kinds: Iterable[str], multiple: int) -> None:
    for kind in kinds:
        rules[kind] = min(rules.get(kind, multiple), multiple)


def rules_for(features: Mapping[str, str], local_loads: bool = True) -> RepackRules:
    """The repacking of a CPU backend, from its reported features (``"AVX2": "1"``, ``"REPACK": "1"``, …);
    ``local_loads`` False where a GPU backend's host buffer takes a local load's CPU layers instead."""
    if features.get("REPACK") != "1":
        return NO_REPACK
    has = {name for name, value in features.items() if value not in ("", "0")}
    rules: dict[str, int] = {}
    if "AVX2" in has:
        _merge(rules, ("Q4_0", "Q4_K", "IQ4_NL", "MXFP4"), 8)
    if "AVX512" in has:
        _merge(rules, ("Q2_K",), 8)
    if "SVE" in has and "MATMUL_INT8" in has and features.get("SVE_CNT") == "32":
        _merge(rules, ("Q4_0",), 8)
    if "NEON" in has and "MATMUL_INT8" in has:
        _merge(rules, ("Q4_0", "Q8_0", "Q1_0"), 4)
        _merge(rules, ("Q4_K", "Q5_K", "Q6_K"), 8)
    if "NEON" in has and "DOTPROD" in has:
        _merge(rules, ("Q4_0", "IQ4_NL", "MXFP4", "Q8_0", "Q1_0"), 4)
        _merge(rules, ("Q4_K", "Q5_K", "Q6_K"), 8)
    return RepackRules(tuple(sorted(rules.items())), local_loads)
