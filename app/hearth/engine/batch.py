"""Several answers from one loaded llama.cpp model at once: continuous batching.

Decode is bound by reading the weights, so one pass over them can serve several sequences for little
more than the cost of one. A ``Batcher`` drives the llama.cpp context of a model loaded with room for
``n_seq`` sequences (each with its own part of the KV cache). Each step gathers the sequences whose
streams asked for their next token, puts each decoding sequence's last token and a chunk of each
newcomer's prompt into one ``llama_batch``, decodes it, and samples each sequence that is due a token
with that sequence's own sampler chain. Sequences join between steps
and leave when their stream closes; a newcomer's prompt goes in chunks, so the others wait at most
one chunk's time for their next token.

A slot keeps what its last sequence left in the cache: a newcomer takes the free slot whose cache
shares the longest start with its prompt (a chat's next turn, the same system prompt) and computes
only the rest, as ``Llama.generate`` does for its one sequence.

With speculation on, each decoding sequence's last token goes into the step with up to ``MAX_DRAFT``
tokens guessed after it (by a draft model, or from the sequence itself), each with its logits; the
sequence's own sampler then draws its next tokens row by row, and the guesses it draws are kept, up
to the first it does not (which it replaces). Each output token is drawn once, from the same logits a
lone step would give it, so greedy output is the target's own and a sampled one follows the target's
distribution (a guess is kept exactly when the target's draw equals it). Refused guesses are cut
from the cache. ``speculation`` chooses how many to guess from what they have been worth here.

Each stream (``BatchStream``) is driven by its own caller (``decode.answer`` on its own thread), whose
``step`` runs the next step or waits for the one running; what a user sees of an answer is decided
there, exactly as for a sequence alone.
"""

from __future__ import annotations

import codecs
import concurrent.futures
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
from llama_cpp.llama_grammar import LlamaGrammar

from hearth.engine.draft_model import DraftModel, put_row
from hearth.engine.errors import EngineError
from hearth.engine.messages import Sampling
from hearth.engine.speculation import (
    MAX_DRAFT,
    Acceptance,
    PromptLookup,
    StepCosts,
    common_prefix,
    draft_length,
)

log = logging.getLogger(__name__)

# The longest one step may take before a waiting stream gives up: a pooled model's chunk of prompt over
# slow devices takes seconds, never this long.
STEP_TIMEOUT_S = 600.0
# The longest a new answer waits for the slot of one that is ending (see ``_wait_for_a_slot``).
SLOT_WAIT_S = 60.0
# How long a step waits for sequences that are decoding but have not asked for their next token yet
# (their caller is still handing over the last one): long enough to keep them in the same pass.
GATHER_S = 0.02
# A newcomer's prompt chunk while others decode: what it adds to their next token's wait.
CHUNK_WHILE_DECODING = 128
# How many tokens the repeat penalty looks back at, as llama-cpp-python's ``Llama`` does.
PENALTY_LAST_N = 64
# What a sequence's guesses are assumed to be worth before any was verified.
PRIOR_DRAFT_MODEL = 0.6
PRIOR_LOOKUP = 0.5
# Steps without a guess after which one token is guessed again, to see whether guessing pays now.
EXPLORE_EVERY = 32


class BatchFull(EngineError):
    """Every sequence of the batch is taken (the scheduler sends no more than the batch holds)."""


class SamplerChain:
    """The sampler chain ``Llama.generate`` builds for a request (the same draw for a seed), owned by
    one sequence."""

    def __init__(self, llm: llama_cpp.Llama, sampling: Sampling, grammar: LlamaGrammar | None) -> None:
        self.handle = llama_lib.llama_sampler_chain_init(llama_lib.llama_sampler_chain_default_params())
        add = self._add
        add(
            llama_lib.llama_sampler_init_penalties(
                llm.n_vocab(), PENALTY_LAST_N, sampling.repeat_factor, 0.0, 0.0
            )
        )
        if grammar is not None:
            add(
                llama_lib.llama_sampler_init_grammar(
                    llm._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
                )
            )
        seed = llama_cpp.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed & 0xFFFFFFFF
        if sampling.temperature < 0.0:
            add(llama_lib.llama_sampler_init_dist(seed))
        elif sampling.temperature == 0.0:
            add(llama_lib.llama_sampler_init_greedy())
        else:
            add(llama_lib.llama_sampler_init_top_k(sampling.top_k))
            add(llama_lib.llama_sampler_init_typical(1.0, 1))
            add(llama_lib.llama_sampler_init_top_p(sampling.top_p, 1))
            add(llama_lib.llama_sampler_init_min_p(sampling.min_p, 1))
            add(llama_lib.llama_sampler_init_temp(sampling.temperature))
            add(llama_lib.llama_sampler_init_dist(seed))

    def _add(self, sampler: llama_lib.llama_sampler_p) -> None:
        # The chain owns what is added and frees it with itself.
        llama_lib.llama_sampler_chain_add(self.handle, sampler)

    def sample(self, ctx: llama_lib.llama_context_p, row: int) -> int:
        """The token drawn from the logits of batch row ``row`` (the chain accepts it)."""
        return int(llama_lib.llama_sampler_sample(self.handle, ctx, row))

    def close(self) -> None:
        if self.handle is not None:
            llama_lib.llama_sampler_free(self.handle)
            self.handle = None


@dataclass(eq=False)
class _Seq:
    """One sequence of the batch: what it has said, and how much of that is in the cache."""

    seq_id: int
    tokens: list[int]  # the prompt, then each token made
    n_prompt: int
    sampler: SamplerChain
    acceptance: Acceptance
    fed: int = 0  # tokens of this sequence in the KV cache
    trim: bool = True  # its slot's cache still holds more than ``fed`` tokens
    lookup: PromptLookup | None = None
    quiet: int = 0  # steps since its last guess
    wants: bool = False  # its stream waits for a token
    closed: bool = False
    made: list[int] = field(default_factory=list)  # tokens made and not yet taken by its stream
    error: str = ""
    margins: list[float] = field(default_factory=list)  # top-2 logit gaps, when recorded
    ends: bool = True  # it ends at an end-of-generation token (its request does not ignore them)

    @property
    def prefilling(self) -> bool:
        return self.fed < self.n_prompt

    @property
    def answered(self) -> bool:
        return bool(self.made or self.error)


class Batcher:
    """The sequences one loaded model serves, and the steps that decode them together.

    A stream that wants its next token leads the step when no step is running (for every sequence
    waiting then), or waits for the one that is; every step runs on the batch's one stepper thread.
    llama.cpp is called only by that thread, or with no step running.
    """

    def __init__(
        self,
        llm: llama_cpp.Llama,
        n_seq: int,
        n_batch: int,
        *,
        record_margins: bool = False,
        draft: DraftModel | None = None,
        lookup: bool = False,
    ) -> None:
        self._llm = llm
        self._ctx = llm._ctx.ctx
        self._mem = llama_lib.llama_get_memory(self._ctx)
        self.n_seq = n_seq
        self._n_batch = max(1, n_batch)
        self._n_ctx = int(llama_lib.llama_n_ctx_seq(self._ctx))
        self._n_vocab = llm.n_vocab()
        self._vocab = llm._model.vocab
        self._n_swa = int(llama_lib.llama_model_n_swa(llm._model.model))
        self._batch = llama_lib.llama_batch_init(self._n_batch, 0, 1)
        self.record_margins = record_margins  # the top-2 logit gap before each token, for tests
        self._cond = threading.Condition()
        self._seqs: dict[int, _Seq] = {}
        self._free = list(range(n_seq))
        # What each slot's cache holds, and when it was last let go (the least recent is reused first).
        self._cached: list[list[int]] = [[] for _ in range(n_seq)]
        self._used = [0] * n_seq
        self._stepping = False  # a step is running, for some stream
        # Every pass runs on this one thread. llama.cpp's CPU backend gives each thread that calls it
        # a team of OpenMP threads, which spin for a while after each pass: passes led by each
        # answer's own thread would leave one spinning team per answer on the cores the next pass needs.
        self._stepper = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hearth-batch")
        self._closed = False
        self.steps = 0
        self.reused = 0  # prompt tokens taken from a slot's cache rather than computed again
        # Guesses cannot be taken back from a recurrent state, nor safely from a sliding-window cache
        # sized to its window (a refused guess may have taken a cell the next token needs): such
        # models decode without them.
        no_rollback = (
            llama_lib.llama_model_is_recurrent(llm._model.model)
            or llama_lib.llama_model_is_hybrid(llm._model.model)
            or self._n_swa > 0
        )
        self.draft = draft  # the runtime closes it with the model
        self._draft = None if no_rollback else draft
        self._lookup = lookup and not no_rollback and draft is None
        self._costs = StepCosts()

    @property
    def speculating(self) -> str:
        """Where guesses come from: "draft" (a draft model), "lookup" (the sequence itself) or ""."""
        return "draft" if self._draft is not None else "lookup" if self._lookup else ""

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._seqs)

    def open(
        self, prompt: list[int], sampling: Sampling, grammar: LlamaGrammar | None, ends: bool = True
    ) -> BatchStream:
        """A new sequence for ``prompt``; it joins the batch at the next step its stream asks for.
        ``ends``: it ends at an end-of-generation token, so no guess after one is kept."""
        if not prompt:
            raise EngineError("an answer needs at least one prompt token")
        sampler = SamplerChain(self._llm, sampling, grammar)
        with self._cond:
            try:
                self._wait_for_a_slot()
            except EngineError:
                sampler.close()
                raise
            slot = max(self._free, key=lambda i: (common_prefix(self._cached[i], prompt), -self._used[i]))
            self._free.remove(slot)
            # The last prompt token is computed again whatever the cache holds: its logits are the
            # answer's first token.
            keep = min(common_prefix(self._cached[slot], prompt), len(prompt) - 1)
            prior = PRIOR_DRAFT_MODEL if self._draft is not None else PRIOR_LOOKUP
            tokens = list(prompt)
            seq = _Seq(slot, tokens, len(prompt), sampler, Acceptance(prior), fed=keep, ends=ends)
            if self._lookup:
                seq.lookup = PromptLookup(tokens)
            self._seqs[slot] = seq
        return BatchStream(self, seq)

    def _wait_for_a_slot(self) -> None:
        """Until a slot is free (called holding the lock). The scheduler sends no more answers than
        the batch holds, but the one it let go may still be ending here: a caller that left is
        cancelled at its next token, and a sequence closed during a step is let go after it."""
        deadline = time.monotonic() + SLOT_WAIT_S
        while True:
            if self._closed:
                raise EngineError("the model is being unloaded")
            if not self._stepping:
                self._reap()
            if self._free:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise BatchFull(f"all {self.n_seq} answers at once are taken")
            self._cond.wait(min(left, 1.0))

    def _next_tokens(self, seq: _Seq) -> list[int]:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        with self._cond:
            seq.wants = True
            self._cond.notify_all()
        while True:
            with self._cond:
                while not seq.answered and self._stepping:
                    if time.monotonic() > deadline:
                        raise EngineError(f"the model made no token in {STEP_TIMEOUT_S:.0f} s")
                    self._cond.wait(1.0)
                if seq.error:
                    raise EngineError(seq.error)
                if seq.made:
                    made, seq.made = seq.made, []
                    return made
                if self._closed:
                    raise EngineError("the model was unloaded")
                self._stepping = True
            # This stream leads the next step, for every sequence that waits by then.
            try:
                self._stepper.submit(self._lead).result()
            finally:
                with self._cond:
                    self._stepping = False
                    self._cond.notify_all()

    def _release(self, seq: _Seq) -> None:
        with self._cond:
            if seq.closed:
                return
            seq.closed = True
            seq.wants = False
            if not self._stepping:
                self._reap()
            self._cond.notify_all()

    def close(self) -> None:
        """Free the batch once no step runs; sequences still open fail at their next step."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        with self._cond:
            self._closed = True
            while self._stepping and time.monotonic() < deadline:
                self._cond.wait(1.0)
            for seq in self._seqs.values():
                seq.error = seq.error or "the model was unloaded"
                seq.closed = True
            self._reap()
            self._cond.notify_all()
            if not self._stepping:
                llama_lib.llama_batch_free(self._batch)
        self._stepper.shutdown(wait=False)

    def _lead(self) -> None:
        with self._cond:
            ready = self._gather()
        try:
            self._step(ready)
        except Exception as exc:  # this step's sequences fail; the model and the others go on
            log.exception("a batch step failed")
            with self._cond:
                for seq in ready:
                    seq.error = seq.error or f"the batch step failed: {exc}"

    def _gather(self) -> list[_Seq]:
        """The sequences of the next step (called holding the lock, with the step flag taken)."""
        self._reap()
        # Decoding sequences that have not asked yet are about to (their streams are handing over
        # the last token): wait a moment so that they share this pass over the weights.
        deadline = time.monotonic() + GATHER_S
        while True:
            late = [s for s in self._seqs.values() if not s.wants and not s.closed and not s.prefilling]
            left = deadline - time.monotonic()
            if not late or left <= 0:
                break
            self._cond.wait(left)
            self._reap()
        return [s for s in self._seqs.values() if s.wants and not s.closed and not s.answered]

    def _reap(self) -> None:
        """Let go of closed sequences; their cache stays for the next prompt that starts the same way
        (cut when it is reused, by the step that reuses it). A sequence that failed leaves nothing
        to reuse."""
        for seq_id, seq in list(self._seqs.items()):
            if seq.closed:
                self._cached[seq_id] = [] if seq.error else seq.tokens[: seq.fed]
                self._used[seq_id] = max(self._used) + 1
                seq.sampler.close()
                del self._seqs[seq_id]
                self._free.append(seq_id)
                self._free.sort()

    def _cut(self, seq: _Seq) -> None:
        """Drop what the slot's cache holds past what ``seq`` reuses."""
        seq.trim = False
        if seq.fed and llama_lib.llama_memory_seq_rm(self._mem, seq.seq_id, seq.fed, -1):
            # A sliding-window cache forgets cells behind its window: reuse needs the window before
            # the first new position to be there still.
            oldest = int(llama_lib.llama_memory_seq_pos_min(self._mem, seq.seq_id))
            if self._n_swa > 0 and oldest > max(0, seq.fed - self._n_swa):
                seq.fed = 0
        else:
            seq.fed = 0
        if seq.fed == 0:
            llama_lib.llama_memory_seq_rm(self._mem, seq.seq_id, -1, -1)
        self.reused += seq.fed

    def _step(self, ready: list[_Seq]) -> None:
        batch = self._batch
        n = 0
        for seq in ready:
            if seq.trim:
                self._cut(seq)
        # Each decoding sequence's last token, then its guesses; the batch row of its first logits.
        due: list[tuple[_Seq, int, list[int]]] = []
        decoding = [s for s in ready if not s.prefilling]
        guesses = self._guesses(decoding)
        for seq in decoding:
            drafts = guesses.get(seq.seq_id, [])
            due.append((seq, n, drafts))
            for i, token in enumerate([seq.tokens[-1], *drafts]):
                put_row(batch, n, token, seq.fed + i, seq.seq_id, True)
                n += 1
            seq.fed += 1 + len(drafts)
        decoded = n
        # Newcomers' prompts share one chunk a step while others decode, so that their next token
        # waits for one chunk at most, however many join at once.
        room = min(self._n_batch, n + CHUNK_WHILE_DECODING) if decoding else self._n_batch
        for seq in ready:
            if not seq.prefilling or n >= room:
                continue
            take = min(seq.n_prompt - seq.fed, room - n)
            for i in range(take):
                last = seq.fed + i == seq.n_prompt - 1
                put_row(batch, n, seq.tokens[seq.fed + i], seq.fed + i, seq.seq_id, last)
                if last:
                    due.append((seq, n, []))
                n += 1
            seq.fed += take
        if n == 0:
            return
        batch.n_tokens = n
        started = time.perf_counter()
        rc = llama_lib.llama_decode(self._ctx, batch)
        self.steps += 1
        if rc != 0:
            why = f"llama.cpp could not decode the batch (llama_decode returned {rc})"
            with self._cond:
                for seq in ready:
                    seq.error = why
            return
        if n == decoded:  # a prompt's chunk would make the step look dearer than guessing makes it
            # A GPU backend returns before it has computed: the pass has cost what it took to end.
            llama_lib.llama_synchronize(self._ctx)
            self._costs.observe(n, time.perf_counter() - started)
        for seq, row, drafts in due:
            self._verify(seq, row, drafts)

    def _guesses(self, decoding: list[_Seq]) -> dict[int, list[int]]:
        """The tokens guessed after each decoding sequence's last one, as long as they are worth it."""
        if not decoding or not (self._draft or self._lookup):
            return {}
        step_s = self._draft.step_s if self._draft is not None else 0.0
        # Guessed tokens are priced against the step's own cost: one token per decoding sequence.
        base = len(decoding)
        room = self._n_batch - base - (CHUNK_WHILE_DECODING if len(decoding) < len(self._seqs) else 0)
        lengths: dict[int, int] = {}
        for seq in decoding:
            most = min(MAX_DRAFT, room, self._n_ctx - seq.fed - 2)
            m = draft_length(seq.acceptance.rate, base, self._costs, step_s, most) if most > 0 else 0
            # Guesses that stopped paying are tried again now and then: the text, or the machine's
            # load, may have changed since.
            seq.quiet = 0 if m else seq.quiet + 1
            if not m and most > 0 and seq.quiet >= EXPLORE_EVERY:
                m, seq.quiet = 1, 0
            if m:
                lengths[seq.seq_id] = m
                base += m
                room -= m
        if not lengths:
            return {}
        by_id = {s.seq_id: s for s in decoding}
        if self._draft is not None:
            made = self._draft.propose({i: (by_id[i].tokens, m) for i, m in lengths.items()})
        else:
            made = {i: lookup.propose(m) for i, m in lengths.items() if (lookup := by_id[i].lookup)}
        # A guess is only that: one past the target's vocabulary ends the guesses there.
        out: dict[int, list[int]] = {}
        for i, drafts in made.items():
            valid = next((k for k, t in enumerate(drafts) if not 0 <= t < self._n_vocab), len(drafts))
            if valid:
                out[i] = drafts[:valid]
        return out

    def _verify(self, seq: _Seq, row: int, drafts: list[int]) -> None:
        """Draw ``seq``'s tokens from rows ``row`` on: each guess the draw equals is kept and the next
        row drawn, up to the first draw that differs (which replaces that guess) or the last row."""
        out: list[int] = []
        try:
            for i in range(len(drafts) + 1):
                if self.record_margins:
                    seq.margins.append(self._margin(row + i))
                token = seq.sampler.sample(self._ctx, row + i)
                out.append(token)
                if i == len(drafts) or token != drafts[i]:
                    break
                # A guess of the answer's end, confirmed: what was guessed after it is not the answer.
                if seq.ends and llama_lib.llama_vocab_is_eog(self._vocab, token):
                    break
        except Exception as exc:  # this sequence's sampler failed; the others go on
            with self._cond:
                seq.error = f"sampling failed: {exc}"
            return
        kept = len(out) - 1
        seq.acceptance.update(len(drafts), kept)
        if kept < len(drafts):
            seq.fed -= len(drafts) - kept
            if not llama_lib.llama_memory_seq_rm(self._mem, seq.seq_id, seq.fed, -1):
                with self._cond:
                    seq.error = "llama.cpp could not take back the refused guesses"
                return
        with self._cond:
            seq.tokens.extend(out)
            seq.made.extend(out)
            seq.wants = False
            self._cond.notify_all()

    def _margin(self, row: int) -> float:
        import numpy as np

        logits = np.ctypeslib.as_array(llama_lib.llama_get_logits_ith(self._ctx, row), (self._n_vocab,))
        top = np.partition(logits, -2)[-2:]
        return float(abs(top[1] - top[0]))


class Detokenizer:
    """An answer's text, token by token: a character split over several tokens comes with its last."""

    def __init__(self, llm: llama_cpp.Llama, prompt: list[int]) -> None:
        self._llm = llm
        self._history = list(prompt)  # the prompt and the answer so far, for the detokenizer's offsets
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def text(self, token: int) -> str:
        piece = self._llm.detokenize([token], prev_tokens=self._history)
        self._history.append(token)
        return self._decoder.decode(piece)

    def rest(self) -> str:
        return self._decoder.decode(b"", final=True)


class BatchStream(Detokenizer):
    """One answer of a ``Batcher``'s batch, as ``decode.answer`` drives it."""

    def __init__(self, batcher: Batcher, seq: _Seq) -> None:
        super().__init__(batcher._llm, seq.tokens[: seq.n_prompt])
        self._batcher = batcher
        self._seq = seq

    @property
    def drafted(self) -> int:
        """Tokens guessed ahead of this answer so far."""
        return self._seq.acceptance.drafted

    @property
    def accepted(self) -> int:
        """How many of the guesses were the model's own next tokens."""
        return self._seq.acceptance.taken

    @property
    def guess_passes(self) -> int:
        """How many of the model's passes for this answer verified guesses."""
        return self._seq.acceptance.passes

    @property
    def margins(self) -> list[float]:
        """The gap between the two best logits before each token, when the batcher records them."""
        return list(self._seq.margins)

    def step(self) -> Sequence[int]:
        return self._batcher._next_tokens(self._seq)

    def close(self) -> None:
        self._batcher._release(self._seq)
