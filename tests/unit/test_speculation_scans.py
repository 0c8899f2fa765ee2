"""The scans each step of every sequence makes over its whole context: linear in its length, so that an
answer's steps cost no more as the context grows than the passes they make."""

from __future__ import annotations

from typing import Any

import pytest

from hearth.engine.speculation import PromptLookup, common_prefix


class _Counted(int):
    """A token that counts how often it is compared."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        _Counted.compared += 1
        return int(self) == int(other)  # type: ignore[call-overload]

    def __ne__(self, other: object) -> bool:
        _Counted.compared += 1
        return int(self) != int(other)  # type: ignore[call-overload]

    __hash__ = int.__hash__


@pytest.mark.parametrize("differ_at", [0, 1, 255, 256, 3000, 4095, None])
def test_common_prefix_compares_each_token_at_most_twice(differ_at: int | None) -> None:
    n = 4096
    # Separate objects for equal tokens: a list compares the same object with itself for free.
    a: list[int] = [_Counted(i) for i in range(n)]
    b: list[int] = [_Counted(i) for i in range(n)]
    if differ_at is not None:
        b[differ_at] = _Counted(-1)
    _Counted.compared = 0
    assert common_prefix(a, b) == (n if differ_at is None else differ_at)
    assert _Counted.compared <= 2 * n, _Counted.compared


@pytest.mark.parametrize(
    ("a", "b", "n"),
    [
        ([], [], 0),
        ([1], [], 0),
        (list(range(600)), [*range(599), 7], 599),
        (list(range(600)), list(range(300)), 300),
    ],
)
def test_common_prefix_of_long_and_unequal_lengths(a: list[int], b: list[int], n: int) -> None:
    assert common_prefix(a, b) == n == common_prefix(b, a)


class _Reads(list[int]):
    """A sequence's tokens that count the tokens read from them."""

    read = 0

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        _Reads.read += len(got) if isinstance(index, slice) else 1
        return got


def test_prompt_lookup_costs_no_more_a_step_as_the_answer_grows() -> None:
    tokens = _Reads([1, 2, 3, 4, 5, 6, 7, 8] * 64)
    lookup = PromptLookup(tokens)
    read: list[int] = []
    for i in range(2000):
        before = _Reads.read
        lookup.propose(4)
        read.append(_Reads.read - before)
        # As a verification of several guesses hands them over: one, two or three tokens a step.
        tokens.extend([(i * 7) % 11] * (1 + i % 3))
    # The context grows ninefold from the first steps to the last: a lookup that indexed it again each
    # step would read several times more a step at the end.
    first, last = sum(read[1:501]), sum(read[-500:])
    assert last <= 1.2 * first, (first, last)
