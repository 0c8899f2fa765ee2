"""Which weights a CPU backend repacks, and what that adds to the host's memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGMLQuantizationType as QT

from hearth.core.memory import device_memory
from hearth.core.profile import read_profile
from hearth.core.repack import NO_REPACK, Matrix, rules_for
from hearth.models import synthetic

AVX2 = {"AVX": "1", "AVX2": "1", "FMA": "1", "F16C": "1", "REPACK": "1"}
AVX512 = {**AVX2, "AVX512": "1", "AVX512_VNNI": "1"}
NEON_DOTPROD = {"NEON": "1", "DOTPROD": "1", "REPACK": "1"}


def test_rules_follow_the_instruction_sets_of_the_loaded_variant() -> None:
    assert rules_for(AVX2).types == ("IQ4_NL", "MXFP4", "Q4_0", "Q4_K")
    assert rules_for(AVX512).types == ("IQ4_NL", "MXFP4", "Q2_K", "Q4_0", "Q4_K")
    # Q5_K, Q6_K and Q8_0 repack on Arm only.
    assert {"Q5_K", "Q6_K", "Q8_0"} <= set(rules_for(NEON_DOTPROD).types)
    assert "Q8_0" not in rules_for(AVX512).types
    # An SSE-only variant, or a build without repacking, keeps every weight where it was read.
    assert not rules_for({"SSE3": "1", "REPACK": "1"})
    assert not rules_for({**AVX2, "REPACK": "0"})
    assert not rules_for({k: v for k, v in AVX2.items() if k != "REPACK"})


def test_a_matrix_repacks_only_when_its_rows_group_evenly() -> None:
    avx2 = rules_for(AVX2)
    assert avx2.takes(Matrix("Q4_0", 64, 1000))
    assert not avx2.takes(Matrix("Q4_0", 60, 1000))  # the x86 kernels interleave 8 rows
    assert rules_for(NEON_DOTPROD).takes(Matrix("Q4_0", 60, 1000))  # Arm's interleave 4
    assert not avx2.takes(Matrix("Q8_0", 64, 1000))
    assert avx2.repacked_bytes([Matrix("Q4_0", 64, 1000), Matrix("F16", 64, 5000)]) == 1024  # aligned


@pytest.fixture(scope="module")
def q4_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = synthetic.variant(synthetic.QUANTIZED, matrix_type=QT.Q4_0, output_type=QT.Q4_0)
    return synthetic.ensure_model(tmp_path_factory.mktemp("q4_0"), spec)


def test_the_profile_lists_each_layers_matrices(q4_0: Path) -> None:
    profile = read_profile(str(q4_0))
    assert len(profile.layer_matrices) == profile.block_count
    first = profile.layer_matrices[0]
    assert len(first) == 7  # q, k, v, output; gate, up, down (norms are vectors)
    assert {m.type_name for m in first} == {"Q4_0"}
    assert sum(m.nbytes for m in first) < profile.layer_bytes[0]  # the norms are the rest
    assert profile.output_matrix is not None and profile.output_matrix.rows == synthetic.QUANTIZED.n_vocab


def test_repacked_copies_count_on_the_host_of_a_mapped_load_only(q4_0: Path) -> None:
    profile = read_profile(str(q4_0))
    L = profile.block_count
    rules = rules_for(AVX2)
    plain = device_memory(profile, 0, L, 512, host=True)
    mapped = device_memory(profile, 0, L, 512, host=True, repack=rules)
    layers = sum(sum(m.nbytes for m in layer) for layer in profile.layer_matrices)
    assert profile.output_matrix is not None
    assert mapped.repacked == layers + profile.output_matrix.nbytes
    assert mapped.weights == plain.weights + mapped.repacked
    # Read without a mapping, the weights go straight into the repacked buffer: nothing is doubled.
    assert device_memory(profile, 0, L, 512, host=True, repack=rules, mmap=False) == plain
    # A pooled host repacks its layers and the head, which it always computes; a worker never repacks.
    pooled = device_memory(profile, 0, 2, 512, host=True, repack=rules)
    first_two = sum(sum(m.nbytes for m in layer) for layer in profile.layer_matrices[:2])
    assert pooled.repacked == first_two + profile.output_matrix.nbytes
    assert device_memory(profile, 2, L, 512, repack=rules).repacked == 0
    assert device_memory(profile, 0, L, 512, host=True, repack=NO_REPACK).repacked == 0
    # A GPU build gives a local load's CPU layers the GPU's host buffer instead; pooled, they repack.
    gpu_build = rules_for(AVX2, local_loads=False)
    assert device_memory(profile, 0, L, 512, host=True, repack=gpu_build).repacked == 0
    assert device_memory(profile, 0, 2, 512, host=True, repack=gpu_build).repacked == pooled.repacked
    # Rules are plain values: a device's spec that holds them can be compared and hashed.
    assert hash(rules) == hash(rules_for(dict(AVX2))) and rules != NO_REPACK


def test_a_tied_head_is_a_repacked_copy_of_the_embedding_even_when_read_into_memory(
    tmp_path: Path,
) -> None:
    spec = synthetic.variant(
        synthetic.QUANTIZED, matrix_type=QT.Q4_0, embd_type=QT.Q4_0, output_type=None, name="tied"
    )
    profile = read_profile(str(synthetic.write_model(tmp_path / "tied.gguf", spec)))
    assert profile.tied_embeddings and profile.output_matrix is not None
    assert profile.output_matrix.nbytes == profile.token_embd_bytes
    rules = rules_for(AVX2)
    unmapped = device_memory(profile, 0, 2, 512, host=True, repack=rules, mmap=False)
    assert unmapped.repacked == rules.repacked_bytes([profile.output_matrix]) > 0


def test_only_the_stacked_experts_count_as_three_dimensional_matrices(tmp_path: Path) -> None:
    spec = synthetic.variant(
        synthetic.QUANTIZED, matrix_type=QT.Q4_0, n_expert=4, n_expert_used=2, n_ff=256, name="moe"
    )
    profile = read_profile(str(synthetic.write_model(tmp_path / "moe.gguf", spec)))
    layer = profile.layer_matrices[0]
    assert len(layer) == 4 + 1 + 3  # attention's four, the router, the three expert stacks
    assert [m.type_name for m in layer].count("F32") == 1  # the router, which no CPU repacks
    stacks = [m for m in layer if m.nbytes > 0 and m.type_name == "Q4_0"][4:]
    assert sum(m.nbytes for m in stacks) == profile.expert_bytes[0]
    assert rules_for(AVX2).repacked_bytes(layer) == sum(m.nbytes for m in layer if m.type_name == "Q4_0")
