"""Which model of the library can draft for another (speculative decoding).

A draft must speak the target's tokenizer, which is told from the vocabulary the files hold
(``ModelProfile.tokenizer``), never from names: a fine-tune renamed, or a conversion by someone else,
is found as well. It must also be far smaller: each token it guesses costs one of its own passes, and
a draft that costs a third of the target already eats most of what it saves on a machine whose
passes cost the same for one token as for several. Among those, the largest up to a tenth of the
target guesses best for what it costs; without one, the smallest.
"""

from __future__ import annotations

from collections.abc import Iterable

from hearth.core.formats import ModelFormat
from hearth.core.profile import ModelProfile

# A draft is at most this share of the target's size, and best up to ``BEST_SHARE``.
MOST_SHARE = 1 / 3
BEST_SHARE = 1 / 10


def can_draft(draft: ModelProfile, target: ModelProfile) -> bool:
    """Whether ``draft`` can guess tokens for ``target``: same tokenizer, far smaller, both GGUF."""
    return (
        draft.path != target.path
        and draft.format == ModelFormat.GGUF == target.format
        and bool(draft.tokenizer)
        and draft.tokenizer == target.tokenizer
        and not draft.embedding_only
        and draft.file_size <= target.file_size * MOST_SHARE
    )


def drafts_for(target: ModelProfile, library: Iterable[ModelProfile]) -> list[ModelProfile]:
    """The models of ``library`` that can draft for ``target``, the one to choose first."""
    found = [p for p in library if can_draft(p, target)]
    best = [p for p in found if p.file_size <= target.file_size * BEST_SHARE]
    rest = [p for p in found if p not in best]
    return sorted(best, key=lambda p: -p.file_size) + sorted(rest, key=lambda p: p.file_size)
