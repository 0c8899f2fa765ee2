"""How many tokens to guess, and prompt lookup's guesses: pure arithmetic on what was measured."""

from __future__ import annotations

import pytest

from hearth.engine.speculation import (
    MAX_DRAFT,
    Acceptance,
    PromptLookup,
    StepCosts,
    common_prefix,
    draft_length,
)


def _costs(per_token: float, n: int = MAX_DRAFT + 1, first: float = 10.0) -> StepCosts:
    costs = StepCosts()
    for k in range(1, n + 1):
        costs.observe(k, first + per_token * (k - 1))
    return costs


def test_guesses_that_are_never_kept_are_not_made() -> None:
    assert draft_length(0.0, 1, _costs(0.0), 0.0, MAX_DRAFT) == 0


def test_where_verifying_costs_as_much_as_decoding_nothing_is_guessed() -> None:
    # A step of k tokens costs k single steps: even a draft that is always right earns nothing.
    assert draft_length(0.99, 1, _costs(10.0), 0.0, MAX_DRAFT) == 0


def test_where_verifying_is_nearly_free_good_guesses_go_long() -> None:
    assert draft_length(0.9, 1, _costs(0.1), 0.0, MAX_DRAFT) == MAX_DRAFT
    assert 1 <= draft_length(0.5, 1, _costs(0.1), 0.0, MAX_DRAFT) < MAX_DRAFT


def test_a_draft_model_that_costs_as_much_as_the_target_is_not_used() -> None:
    assert draft_length(0.9, 1, _costs(0.1), 10.0, MAX_DRAFT) == 0
    assert draft_length(0.9, 1, _costs(0.1), 0.5, MAX_DRAFT) > 0


def test_the_length_never_exceeds_what_the_caller_allows() -> None:
    assert draft_length(0.99, 1, _costs(0.0), 0.0, 3) == 3
    assert draft_length(0.99, 1, _costs(0.0), 0.0, 0) == 0


def test_untimed_sizes_lie_between_the_timed_ones() -> None:
    costs = StepCosts()
    costs.observe(1, 10.0)
    costs.observe(5, 30.0)
    assert costs.cost(3) == pytest.approx(20.0)
    # Past the largest timed size: at least its own slope.
    assert costs.cost(7) == pytest.approx(40.0)
    assert StepCosts().cost(1) == pytest.approx(1.0)


def test_acceptance_follows_what_was_kept_recent_ones_most() -> None:
    acceptance = Acceptance(0.5)
    for _ in range(30):
        acceptance.update(4, 4)
    assert acceptance.rate > 0.9
    for _ in range(30):
        acceptance.update(4, 0)
    assert acceptance.rate < 0.2
    assert (acceptance.drafted, acceptance.taken) == (240, 120)
    acceptance.update(0, 0)  # nothing guessed: nothing learnt
    assert acceptance.drafted == 240


def test_prompt_lookup_guesses_what_followed_the_latest_ngram_before() -> None:
    tokens = [1, 2, 3, 4, 5, 9, 9, 1, 2, 3]
    lookup = PromptLookup(tokens)
    assert lookup.propose(3) == [4, 5, 9]
    tokens.extend([4, 5])  # the sequence grows; the index follows
    assert lookup.propose(2) == [9, 9]
    assert PromptLookup([7, 8, 9]).propose(4) == []  # nothing repeats
    assert PromptLookup([1, 2, 1, 2]).propose(0) == []


def test_prompt_lookup_prefers_the_longest_match() -> None:
    # "2 3" last occurred before 7, but "1 2 3" before 5: the longer match wins.
    tokens = [1, 2, 3, 5, 0, 2, 3, 7, 0, 1, 2, 3]
    assert PromptLookup(tokens).propose(1) == [5]


@pytest.mark.parametrize(
    ("a", "b", "n"),
    [([], [1], 0), ([1, 2, 3], [1, 2, 3], 3), ([1, 2, 3], [1, 2], 2), ([1, 5, 3], [1, 2, 3], 1)],
)
def test_common_prefix(a: list[int], b: list[int], n: int) -> None:
    assert common_prefix(a, b) == n
