"""A small model that drafts tokens for a larger one with the same vocabulary (speculative decoding).

The draft runs on the host, beside the target, with a sequence of its own for each of the target's:
before each step it catches up with what its sequence said since its last draft (in one pass) and
then drafts greedily, one token a pass. What the target refuses is cut from the draft's cache, so the
draft never re-reads what it has already seen.
"""

from __future__ import annotations

import time
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import numpy as np

from hearth.engine.errors import BadRequest
from hearth.engine.speculation import common_prefix

# llama.cpp's own rule for a draft's vocabulary (common/speculative.cpp): pad tokens at the end of one
# vocabulary may differ, up to this many.
VOCAB_SLACK = 128
# The first ids hold control tokens whose texts differ between builds of one tokenizer.
_CONTROL_IDS = 5
# A bound on drafting passes a step, whatever a caller asks.
MAX_PASSES = 32


def check_compatible(target: llama_cpp.Llama, draft: llama_cpp.Llama, draft_path: str) -> None:
    """Refuse ``draft`` unless it tokenizes as ``target`` does: the same kind of vocabulary, the same
    start and end tokens, and the same text for every token both have."""
    tv, dv = target._model.vocab, draft._model.vocab
    why = ""
    if llama_lib.llama_vocab_type(tv) != llama_lib.llama_vocab_type(dv):
        why = "its tokenizer is of another kind"
    elif abs(target.n_vocab() - draft.n_vocab()) > VOCAB_SLACK:
        why = f"its vocabulary has {draft.n_vocab():,} tokens against {target.n_vocab():,}"
    elif (target.token_bos(), target.token_eos()) != (draft.token_bos(), draft.token_eos()):
        why = "its start and end tokens differ"
    else:
        for i in range(_CONTROL_IDS, min(target.n_vocab(), draft.n_vocab())):
            if llama_lib.llama_vocab_get_text(tv, i) != llama_lib.llama_vocab_get_text(dv, i):
                why = f"token {i} differs ({llama_lib.llama_vocab_get_text(dv, i)!r})"
                break
    if why:
        raise BadRequest(
            f"{draft_path} cannot draft for this model: {why}. A draft model must share the model's "
            "tokenizer (a smaller model of the same family)"
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
        self._n_vocab = llm.n_vocab()
        self._n_ctx = int(llama_lib.llama_n_ctx_seq(self._ctx))
        self._cached: list[list[int]] = [[] for _ in range(n_seq)]  # what each sequence's cache holds
        self.step_s = 0.0  # what one drafting pass has cost, recent ones counting most

    def forget(self, seq_id: int) -> None:
        llama_lib.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
        self._cached[seq_id] = []

    def propose(self, wants: dict[int, tuple[list[int], int]]) -> dict[int, list[int]]:
        """For each sequence id, ``(tokens, m)``: up to ``m`` tokens drafted after ``tokens`` (all the
        sequence said so far)."""
        wants = {s: (t, min(m, self._n_ctx - len(t) - 1)) for s, (t, m) in wants.items()}
        wants = {s: (t, m) for s, (t, m) in wants.items() if m > 0 and t}
        if not wants:
            return {}
        started = time.perf_counter()
        drafts = {s: [t] for s, t in self._catch_up({s: t for s, (t, _) in wants.items()}).items()}
        passes = 1 if drafts else 0
        while passes < MAX_PASSES:
            going = [s for s, d in drafts.items() if len(d) < wants[s][1]]
            if not going:
                break
            for i, seq_id in enumerate(going):
                token = drafts[seq_id][-1]
                put_row(self._batch, i, token, len(self._cached[seq_id]), seq_id, True)
                self._cached[seq_id].append(token)
            self._batch.n_tokens = len(going)
            if llama_lib.llama_decode(self._ctx, self._batch) != 0:
                # What the cache holds is no longer known: these sequences catch up from nothing.
                for seq_id in going:
                    self.forget(seq_id)
                break
            passes += 1
            for i, seq_id in enumerate(going):
                drafts[seq_id].append(self._best(i))
        # A token drafted costs a pass, the first one (catching up) included.
        if passes:
            spent = (time.perf_counter() - started) / passes
            self.step_s = spent if self.step_s == 0 else self.step_s + 0.2 * (spent - self.step_s)
        return drafts

    def _catch_up(self, seqs: dict[int, list[int]]) -> dict[int, int]:
        """Feed each sequence what its cache lacks; the draft's first token for each."""
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
        last = {seq_id: len(tokens) - 1 for seq_id, tokens in seqs.items()}
        firsts: dict[int, int] = {}
        for start in range(0, len(pending), self._n_batch):
            chunk = pending[start : start + self._n_batch]
            rows: dict[int, int] = {}
            for i, (seq_id, token, pos) in enumerate(chunk):
                wanted = pos == last[seq_id]
                put_row(self._batch, i, token, pos, seq_id, wanted)
                if wanted:
                    rows[seq_id] = i
            self._batch.n_tokens = len(chunk)
            if llama_lib.llama_decode(self._ctx, self._batch) != 0:
                for seq_id in seqs:
                    self.forget(seq_id)
                return {}
            # The next chunk overwrites these logits.
            firsts.update((seq_id, self._best(row)) for seq_id, row in rows.items())
        return firsts

    def _best(self, row: int) -> int:
        logits = np.ctypeslib.as_array(llama_lib.llama_get_logits_ith(self._ctx, row), (self._n_vocab,))
        return int(np.argmax(logits))

    def close(self) -> None:
        if self._batch is not None:
            llama_lib.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()
