"""A small model that drafts tokens for a larger one with the same vocabulary (speculative decoding).

The draft runs on the host, beside the target, with a sequence of its own for each of the target's:
before each step it catches up with what its sequence said since its last draft (in one pass) and
then drafts greedily, one token a pass, up to the first end-of-generation token it drafts. What the
target refuses is cut from the draft's cache, so the draft never re-reads what it has already seen.

A pair is accepted by the rule the library uses to find drafts (``core.profile.tokenizer_id``: the
same kind of tokenizer and the same first tokens), so that the draft a Planner proposes is the one a
load takes. The two vocabularies may then differ in length: a token of the target's past the end of
the draft's is never fed to the draft (llama.cpp would read past its embeddings), and a guess past
the end of the target's is cut by the batch.
"""

from __future__ import annotations

import time
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import numpy as np

from hearth.core.profile import tokenizer_id
from hearth.engine.errors import BadRequest
from hearth.engine.speculation import common_prefix

# A bound on drafting passes a step, whatever a caller asks.
MAX_PASSES = 32
# A catch-up that feeds a sequence at most this many tokens is a drafting pass like the others (what
# the target added since the last draft: the guess the draft never fed and the target's own token);
# a longer one (a prompt, a long refusal) is prefill and says nothing of what drafting costs.
_STEP_LIKE_CATCH_UP = 2


def loaded_tokenizer_id(llm: llama_cpp.Llama) -> str:
    """``core.profile.tokenizer_id`` of a loaded model, from the vocabulary llama.cpp read: the same
    digest the model's profile holds (the texts are the file's own bytes)."""
    vocab = llm._model.vocab
    texts = [
        llama_lib.llama_vocab_get_text(vocab, i).decode("utf-8", errors="replace")
        for i in range(llm.n_vocab())
    ]
    return tokenizer_id(llm.metadata.get("tokenizer.ggml.model"), texts)


def check_compatible(target: llama_cpp.Llama, draft: llama_cpp.Llama, draft_path: str) -> None:
    """Refuse ``draft`` unless it shares ``target``'s tokenizer by the library's rule (the same
    ``tokenizer_id``), which chose it: a rule of its own here would refuse drafts the Planner
    proposed, or take ones it refused."""
    ours = loaded_tokenizer_id(draft)
    if not ours or ours != loaded_tokenizer_id(target):
        raise BadRequest(
            f"{draft_path} cannot draft for this model: their tokenizers differ. A draft model must "
            "share the model's tokenizer (a smaller model of the same family)"
        )


def put_row(batch: Any, i: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
    """Row ``i`` of ``batch`` (a ``llama_batch``, whose pointer fields the bindings type as arrays):
    ``token`` at ``pos`` of sequence ``seq_id``, with its logits or not."""
    batch.token[i] = token
    batch.pos[i] = pos
    batch.n_seq_id[i] = 1
    batch.seq_id[i][0] = seq_id
    batch.logits[i] = logits


class DraftModel:
    """A loaded draft model with ``n_seq`` sequences, one per sequence of the target's batch."""

    def __init__(self, llm: llama_cpp.Llama, n_seq: int, n_batch: int) -> None:
        self.llm = llm
        self._ctx = llm._ctx.ctx
        self._mem = llama_lib.llama_get_memory(self._ctx)
        self._n_batch = max(n_batch, n_seq, 1)
        self._batch = llama_lib.llama_batch_init(self._n_batch, 0, 1)
        self._vocab = llm._model.vocab
        self._n_vocab = llm.n_vocab()
        # What the draft reads in place of a target's token it has no embedding for: any token of its
        # own keeps llama.cpp in bounds, and a guess after it is only worse, never wrong.
        newline = int(llama_lib.llama_vocab_nl(self._vocab))
        self._stand_in = newline if 0 <= newline < self._n_vocab else 0
        self._n_ctx = int(llama_lib.llama_n_ctx_seq(self._ctx))
        # What each sequence's cache stands for: the target's tokens (a stand-in's place holds the
        # token it stood in for, so that the next catch-up finds it there).
        self._cached: list[list[int]] = [[] for _ in range(n_seq)]
        self.step_s = 0.0  # what one drafting pass has cost, recent ones counting most

    def forget(self, seq_id: int) -> None:
        llama_lib.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
        self._cached[seq_id] = []

    def propose(self, wants: dict[int, tuple[list[int], int]]) -> dict[int, list[int]]:
        """For each sequence id, ``(tokens, m)``: up to ``m`` tokens drafted after ``tokens`` (all the
        sequence said so far), ending at the first end-of-generation token drafted."""
        wants = {s: (t, min(m, self._n_ctx - len(t) - 1)) for s, (t, m) in wants.items()}
        wants = {s: (t, m) for s, (t, m) in wants.items() if m > 0 and t}
        if not wants:
            return {}
        firsts, catch_up_s = self._catch_up({s: t for s, (t, _) in wants.items()})
        drafts = {s: [t] for s, t in firsts.items()}
        spent, passes = (catch_up_s, 1) if catch_up_s is not None else (0.0, 0)
        for _ in range(MAX_PASSES - 1):
            # A guess past the end of the answer could only be refused or thrown away.
            going = [
                s
                for s, d in drafts.items()
                if len(d) < wants[s][1] and not llama_lib.llama_vocab_is_eog(self._vocab, d[-1])
            ]
            if not going:
                break
            started = time.perf_counter()
            if not self._draft_pass(going, drafts):
                break
            spent += time.perf_counter() - started
            passes += 1
        # What a drafted token costs: the drafting passes alone. A catch-up that read a prompt would
        # make drafting look as dear as prefill, and guesses would stop being made.
        if passes:
            per_pass = spent / passes
            self.step_s = per_pass if self.step_s == 0 else self.step_s + 0.2 * (per_pass - self.step_s)
        return drafts

    def _draft_pass(self, going: list[int], drafts: dict[int, list[int]]) -> bool:
        """One token more for each of ``going``; False: the pass failed and the drafts end where they
        are."""
        for i, seq_id in enumerate(going):
            token = drafts[seq_id][-1]
            put_row(self._batch, i, token, len(self._cached[seq_id]), seq_id, True)
            self._cached[seq_id].append(token)
        self._batch.n_tokens = len(going)
        if llama_lib.llama_decode(self._ctx, self._batch) != 0:
            # What the cache holds is no longer known: these sequences catch up from nothing.
            for seq_id in going:
                self.forget(seq_id)
            return False
        for i, seq_id in enumerate(going):
            drafts[seq_id].append(self._best(i))
        return True

    def _catch_up(self, seqs: dict[int, list[int]]) -> tuple[dict[int, int], float | None]:
        """Feed each sequence what its cache lacks; the draft's first token for each, and what the
        catch-up cost when it was no more than a drafting pass (None when it read more)."""
        pending: list[tuple[int, int, int]] = []  # (seq_id, token, position)
        for seq_id, tokens in seqs.items():
            cached = self._cached[seq_id]
            keep = min(common_prefix(cached, tokens), len(tokens) - 1)
            if keep < len(cached):
                if not llama_lib.llama_memory_seq_rm(self._mem, seq_id, keep, -1):
                    llama_lib.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
                    keep = 0
                del cached[keep:]
            pending.extend((seq_id, tokens[p], p) for p in range(keep, len(tokens)))
            cached.extend(tokens[keep:])
        step_like = len(pending) <= min(_STEP_LIKE_CATCH_UP * len(seqs), self._n_batch)
        last = {seq_id: len(tokens) - 1 for seq_id, tokens in seqs.items()}
        firsts: dict[int, int] = {}
        started = time.perf_counter()
        for start in range(0, len(pending), self._n_batch):
            chunk = pending[start : start + self._n_batch]
            rows: dict[int, int] = {}
            for i, (seq_id, token, pos) in enumerate(chunk):
                wanted = pos == last[seq_id]
                # The target's vocabulary may be the longer one: a token the draft has no row for is
                # out of llama.cpp's bounds (which fails the whole pass, every sequence's catch-up
                # with it).
                fed = token if 0 <= token < self._n_vocab else self._stand_in
                put_row(self._batch, i, fed, pos, seq_id, wanted)
                if wanted:
                    rows[seq_id] = i
            self._batch.n_tokens = len(chunk)
            if llama_lib.llama_decode(self._ctx, self._batch) != 0:
                for seq_id in seqs:
                    self.forget(seq_id)
                return {}, None
            # The next chunk overwrites these logits.
            firsts.update((seq_id, self._best(row)) for seq_id, row in rows.items())
        return firsts, (time.perf_counter() - started) if step_like else None

    def _best(self, row: int) -> int:
        logits = np.ctypeslib.as_array(llama_lib.llama_get_logits_ith(self._ctx, row), (self._n_vocab,))
        return int(np.argmax(logits))

    def close(self) -> None:
        if self._batch is not None:
            llama_lib.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()
