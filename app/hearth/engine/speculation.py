"""How many tokens to draft ahead of a sequence, and where the drafts come from when no draft model is
loaded: the sequence itself (prompt lookup).

Verifying ``1 + m`` tokens in one pass costs little more than one token where decode is bound by
reading the weights (a GPU, a pool of devices a network apart) and close to ``1 + m`` tokens where it is
bound by arithmetic (a small model on a few CPU cores). So the draft length is chosen from what this
machine measures, not fixed: the expected tokens a step yields, ``1 + p + p² + … + pᵐ`` for an
acceptance rate ``p``, over what the step costs (the target's pass over ``1 + m`` tokens and the draft's
``m`` steps). When drafts keep failing, or cost more than they save, the best length is 0 and the
sequence decodes as it would without speculation. Nothing here touches llama.cpp.
"""

from __future__ import annotations

from dataclasses import dataclass

# The longest draft one step verifies.
MAX_DRAFT = 8
# The n-grams prompt lookup matches, longest first: a longer match predicts better; one token alone
# matches everywhere and predicts little.
LOOKUP_NGRAMS = (4, 3, 2)
# How much the last verification counts against those before it.
_DECAY = 0.9
# Until a step of ``n`` tokens has been timed, it is taken to cost this much more per token than the
# largest timed step below it: optimistic enough that longer drafts are tried and then timed.
_UNTIMED_PER_TOKEN = 0.05
# The share by which guessing must beat not guessing, as predicted, to be done.
GUESS_MARGIN = 0.05
# How fast the timing of a step size follows what is measured.
_COST_WEIGHT = 0.2
# The tokens ``common_prefix`` compares at once.
_PREFIX_BLOCK = 256


class Acceptance:
    """How often a sequence's drafted tokens are accepted, the recent ones counting most.

    A verification of ``m`` drafted tokens that accepts ``a`` tested ``a + 1`` of them (the first one
    refused ends it), or ``m`` when all were accepted: the rate is accepted over tested.
    """

    def __init__(self, prior: float) -> None:
        self._accepted = 2.0 * prior
        self._tested = 2.0
        self.drafted = 0  # over the sequence's life, for its statistics
        self.taken = 0
        self.passes = 0  # passes that verified guesses

    @property
    def rate(self) -> float:
        return self._accepted / self._tested

    def update(self, drafted: int, accepted: int) -> None:
        if drafted <= 0:
            return
        tested = accepted + (1 if accepted < drafted else 0)
        self._accepted = _DECAY * self._accepted + accepted
        self._tested = _DECAY * self._tested + tested
        self.drafted += drafted
        self.taken += accepted
        self.passes += 1


class StepCosts:
    """What a pass of the target over ``n`` tokens costs here, in seconds, as measured."""

    def __init__(self) -> None:
        self._seconds: dict[int, float] = {}

    def observe(self, n: int, seconds: float) -> None:
        if n <= 0 or seconds <= 0:
            return
        before = self._seconds.get(n)
        self._seconds[n] = seconds if before is None else before + _COST_WEIGHT * (seconds - before)

    def cost(self, n: int) -> float:
        """The cost of ``n`` tokens: as timed, else on the line between the timed sizes around it,
        else past the largest timed size at its own slope (and at least a little more a token)."""
        timed = self._seconds
        if n in timed:
            return timed[n]
        below = [k for k in timed if k < n]
        above = [k for k in timed if k > n]
        if below and above:
            lo, hi = max(below), min(above)
            return timed[lo] + (timed[hi] - timed[lo]) * (n - lo) / (hi - lo)
        if not below:
            if not above:
                return 1.0 + _UNTIMED_PER_TOKEN * (n - 1)  # nothing timed yet: only ratios matter
            hi = min(above)
            return timed[hi] * (1.0 - _UNTIMED_PER_TOKEN * (hi - n))
        lo = max(below)
        slope = _UNTIMED_PER_TOKEN * timed[lo]
        if len(below) > 1:
            first = min(below)
            slope = max(slope, (timed[lo] - timed[first]) / (lo - first))
        return timed[lo] + slope * (n - lo)


def draft_length(rate: float, base: int, costs: StepCosts, draft_step_s: float, most: int) -> int:
    """The draft length, 0 to ``most``, that makes the most tokens per second for a sequence whose
    drafts are accepted at ``rate``, in a step that verifies ``base`` other tokens as well (one per
    decoding sequence); ``draft_step_s``: what drafting one token costs (0 for prompt lookup)."""
    # Not guessing is worth 1; guessing must promise more than what timing noise and the loop's own
    # work could take back.
    best, best_gain = 0, 1.0 + GUESS_MARGIN
    expected = 1.0
    weight = 1.0
    alone = costs.cost(base)
    for m in range(1, max(0, most) + 1):
        weight *= rate
        expected += weight
        spent = costs.cost(base + m) + m * draft_step_s
        gain = expected * alone / spent if spent > 0 else expected
        if gain > best_gain + 1e-9:
            best, best_gain = m, gain
    return best


@dataclass
class PromptLookup:
    """Drafts from the sequence itself: the tokens that followed the last earlier occurrence of its
    latest n-gram. Rewrites, code edits and summaries repeat their prompt, and this costs no model.

    ``tokens`` is the sequence's own list (prompt, then each token made), read as it grows.
    """

    tokens: list[int]

    def __post_init__(self) -> None:
        # n-gram -> where its last occurrence ends, over every end before the latest token.
        self._ends: dict[tuple[int, ...], int] = {}
        self._indexed = 0  # ends below this are in ``_ends``

    def propose(self, most: int) -> list[int]:
        tokens = self.tokens
        last = len(tokens) - 1
        if most <= 0 or last < 1:
            return []
        # The latest n-gram's own end is left out: its continuation is what is being drafted.
        for end in range(self._indexed, last):
            for n in LOOKUP_NGRAMS:
                if end + 1 >= n:
                    self._ends[tuple(tokens[end + 1 - n : end + 1])] = end
        self._indexed = max(self._indexed, last)
        for n in LOOKUP_NGRAMS:
            if last + 1 < n:
                continue
            found = self._ends.get(tuple(tokens[last + 1 - n : last + 1]))
            if found is not None:
                return list(tokens[found + 1 : found + 1 + most])
        return []


def common_prefix(a: list[int], b: list[int]) -> int:
    """The length of the longest common prefix of ``a`` and ``b``, in one pass: a block at a time
    (compared in C), then the first block that differs token by token. Each step of every sequence
    asks this of its whole context, so each element is compared at most twice."""
    n = min(len(a), len(b))
    for start in range(0, n, _PREFIX_BLOCK):
        end = min(n, start + _PREFIX_BLOCK)
        if a[start:end] != b[start:end]:
            return next(i for i in range(start, end) if a[i] != b[i])
    return n
