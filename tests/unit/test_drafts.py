"""A draft is found by the vocabulary the files hold, and only when it is far smaller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hearth.core.profile import ModelProfile, read_profile
from hearth.engine.messages import Done
from hearth.models import synthetic
from hearth.models.drafts import can_draft, drafts_for
from hearth.service.drafting import (
    DraftError,
    Drafting,
    Guessing,
    draft_memory,
    predicted_speedup,
)
from hearth.store.settings import Speculation, load_speculation


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


def _drafting(library: list[ModelProfile], choice: str | None = None) -> Drafting:
    async def entries() -> list[ModelProfile]:
        return library

    async def read(path: str) -> ModelProfile:
        return read_profile(path)

    return Drafting(entries, read, Speculation(choice) if choice else None)


def test_the_choice_is_stored_and_says_how_loads_guess(
    family: dict[str, ModelProfile], hearth_home: Path
) -> None:
    big, library = family["big"], list(family.values())
    drafting = _drafting(library)
    assert drafting.settings.draft == "auto"
    auto = asyncio.run(drafting.for_load(big, 256, 0))
    assert (
        auto.kind == "draft"
        and auto.draft is not None
        and auto.draft.path == drafts_for(big, library)[0].path
    )
    assert auto.draft_bytes == draft_memory(auto.draft, 256)
    # No room beside the model: guesses from the answer's own text, which take none.
    assert drafting.guessing(big, library, 1, 256).kind == "lookup"
    drafting.set_choice("none")
    assert load_speculation().draft == "none" and asyncio.run(drafting.for_load(big, 256, 0)).kind == ""
    drafting.set_choice("lookup")
    assert asyncio.run(drafting.for_load(big, 256, 0)) == Guessing(lookup=True)
    # A draft named by its file, of another tokenizer: refused with the reason, and loads guess from text.
    other = family["other-vocab"]
    named = _drafting(library, other.path)
    with pytest.raises(DraftError, match="tokenizers differ"):
        named.guessing(big, (), None, 256, named=other)
    assert asyncio.run(named.for_load(big, 256, 0)) == Guessing(lookup=True)
    with pytest.raises(DraftError):
        drafting.set_choice("")


def test_the_speed_up_said_is_the_measured_one_once_answers_measured_it(
    family: dict[str, ModelProfile],
) -> None:
    big, small = family["big"], family["small"]
    drafting = _drafting([big, small])
    share = small.file_size / big.file_size
    assumed, measured = drafting.speedup(big, small)
    assert not measured and assumed == pytest.approx(predicted_speedup(0.7, share))
    drafting.record(big.path, small.path, Done(0, "stop", 1, 10, 0.1, 1.0, drafted=10, accepted=9))
    assert drafting.kept(big.path, small.path) == pytest.approx(0.9)
    speedup, measured = drafting.speedup(big, small)
    assert measured and speedup == pytest.approx(predicted_speedup(0.9, share)) and speedup > assumed
    proposal = asyncio.run(drafting.proposal(big, 256))
    assert proposal is not None and proposal.draft.path == small.path and proposal.measured
    # The formula: at 100 % kept and a free draft, 4 guesses give 5 tokens a pass.
    assert predicted_speedup(1.0, 0.0) == pytest.approx(5.0)
    assert asyncio.run(_drafting([]).proposal(big, 256)) is None
