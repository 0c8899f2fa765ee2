"""A draft is found by the vocabulary the files hold, and only when it is far smaller."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.core.profile import ModelProfile, read_profile
from hearth.models import synthetic
from hearth.models.drafts import can_draft, drafts_for


@pytest.fixture(scope="module")
def family(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelProfile]:
    root = tmp_path_factory.mktemp("family")
    big = synthetic.variant(synthetic.TINY, name="big", n_embd=512, n_ff=1024, n_layer=8)
    made: dict[str, Path] = {
        "big": synthetic.write_model(root / "big.gguf", big),
        "small": synthetic.write_model(root / "small.gguf", synthetic.TINY),
        "mid": synthetic.write_model(
            root / "mid.gguf", synthetic.variant(synthetic.TINY, name="m", n_embd=128)
        ),
        # Other weights, same vocabulary: a fine-tune under another name drafts as well.
        "renamed": synthetic.write_model(root / "renamed.gguf", synthetic.TINY, seed=3),
        "other-vocab": synthetic.write_model(
            root / "other.gguf", synthetic.variant(synthetic.TINY, name="o", n_vocab=512)
        ),
        "wide": synthetic.write_model(root / "wide.gguf", synthetic.variant(synthetic.TINY, n_vocab=2048)),
    }
    return {name: read_profile(str(path)) for name, path in made.items()}


def test_models_with_the_same_vocabulary_share_a_tokenizer_and_others_do_not(
    family: dict[str, ModelProfile],
) -> None:
    assert family["big"].tokenizer and family["big"].tokenizer == family["small"].tokenizer
    assert family["other-vocab"].tokenizer not in ("", family["big"].tokenizer)
    # A vocabulary too long to keep in memory is told by its digest all the same.
    assert family["wide"].tokenizer and family["wide"].tokenizer != family["big"].tokenizer


def test_the_draft_chosen_is_the_largest_far_smaller_model_of_the_same_tokenizer(
    family: dict[str, ModelProfile],
) -> None:
    big = family["big"]
    found = drafts_for(big, family.values())
    assert [p.path for p in found] == sorted(
        (family[n].path for n in ("small", "mid", "renamed")),
        key=lambda path: -next(p.file_size for p in family.values() if p.path == path),
    )
    assert not can_draft(family["other-vocab"], big)
    assert not can_draft(big, big)
    # A target never drafts for a model smaller than itself.
    assert drafts_for(family["small"], family.values()) == []
