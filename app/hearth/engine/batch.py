"""Several answers from one loaded llama.cpp model at once: continuous batching.

Decode is bound by reading the weights, so one pass over them can serve several sequences for little
more than the cost of one. A ``Batcher`` drives the llama.cpp context of a model loaded with room for
``n_seq`` sequences (each with its own part of the KV cache). Each step gathers the sequences whose
streams asked for their next token, puts each decoding sequence's last token and a chunk of each
newcomer's prompt into one ``llama_batch``, decodes it, and samples each sequence that is due a token
with that sequence's own sampler chain. Sequences join between steps
and leave when their stream closes; a newcomer's prompt goes in chunks, so the others wait at most
one chunk's time for their next token.

Each stream (``BatchStream``) is driven by its own caller (``decode.answer`` on its own thread), whose
``step`` runs the next step or waits for the one running; what a user sees of an answer is decided
there, exactly as for a sequence alone.
"""

from __future__ import annotations

import codecs
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
from llama_cpp.llama_grammar import LlamaGrammar

from hearth.engine.errors import EngineError
from hearth.engine.messages import Sampling

log = logging.getLogger(__name__)

# The longest one step may take before a waiting stream gives up: a pooled model's chunk of prompt over
# slow devices takes seconds, never this long.
STEP_TIMEOUT_S = 600.0
# How long a step waits for sequences that are decoding but have not asked for their next token yet
# (their caller is still handing over the last one): long enough to keep them in the same pass.
GATHER_S = 0.02
# A newcomer's prompt chunk while others decode: what it adds to their next token's wait.
CHUNK_WHILE_DECODING = 128
# How many tokens the repeat penalty looks back at, as llama-cpp-python's ``Llama`` does.
PENALTY_LAST_N = 64


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
                llm.n_vocab(), PENALTY_LAST_N, sampling.repeat_penalty, 0.0, 0.0
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
    """One sequence of the batch: its prompt, how much of it is in the cache, and its next input."""

    seq_id: int
    prompt: list[int]
    sampler: SamplerChain
    fed: int = 0  # tokens of this sequence in the KV cache
    next_input: int | None = None  # the token sampled last, fed at the next step
    wants: bool = False  # its stream waits for a token
    closed: bool = False
    made: list[int] = field(default_factory=list)  # tokens made and not yet taken by its stream
    error: str = ""
    margins: list[float] = field(default_factory=list)  # top-2 logit gaps, when recorded

    @property
    def prefilling(self) -> bool:
        return self.fed < len(self.prompt)

    @property
    def answered(self) -> bool:
        return bool(self.made or self.error)


class Batcher:
    """The sequences one loaded model serves, and the steps that decode them together.

    There is no thread of its own: a stream that wants its next token runs the step itself when no
    step is running (for every sequence waiting then), or waits for the one that is. Alone, an answer
    decodes on its own thread with no hand-over; together, one of them decodes for all.
    """

    def __init__(
        self, llm: llama_cpp.Llama, n_seq: int, n_batch: int, *, record_margins: bool = False
    ) -> None:
        self._llm = llm
        self._ctx = llm._ctx.ctx
        self._mem = llama_lib.llama_get_memory(self._ctx)
        self.n_seq = n_seq
        self._n_batch = max(1, n_batch)
        self._batch = llama_lib.llama_batch_init(self._n_batch, 0, 1)
        self.record_margins = record_margins  # the top-2 logit gap before each token, for tests
        self._cond = threading.Condition()
        self._seqs: dict[int, _Seq] = {}
        self._free = list(range(n_seq))
        self._stepping = False  # a step is running (on some stream's thread)
        self._closed = False
        self.steps = 0

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._seqs)

    def open(self, prompt: list[int], sampling: Sampling, grammar: LlamaGrammar | None) -> BatchStream:
        """A new sequence for ``prompt``; it joins the batch at the next step its stream asks for."""
        if not prompt:
            raise EngineError("an answer needs at least one prompt token")
        sampler = SamplerChain(self._llm, sampling, grammar)
        with self._cond:
            if not self._stepping:
                self._reap()
            if self._closed:
                sampler.close()
                raise EngineError("the model is being unloaded")
            if not self._free:
                sampler.close()
                raise BatchFull(f"all {self.n_seq} answers at once are taken")
            seq = _Seq(self._free.pop(0), list(prompt), sampler)
            self._seqs[seq.seq_id] = seq
        return BatchStream(self, seq)

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
            # This stream runs the next step, for every sequence that waits by then.
            try:
                self._lead()
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
            # Its cells are freed between steps: by this thread now, or by the step running.
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
        for seq_id, seq in list(self._seqs.items()):
            if seq.closed:
                llama_lib.llama_memory_seq_rm(self._mem, seq_id, -1, -1)
                seq.sampler.close()
                del self._seqs[seq_id]
                self._free.append(seq_id)
                self._free.sort()

    def _step(self, ready: list[_Seq]) -> None:
        batch = self._batch
        n = 0
        due: list[tuple[_Seq, int]] = []  # sequences that get a token, and the batch row of their logits
        decoding = [s for s in ready if not s.prefilling]
        for seq in decoding:
            if seq.next_input is None:
                continue
            self._put(n, seq.next_input, seq.fed, seq.seq_id, True)
            seq.fed += 1
            due.append((seq, n))
            n += 1
        # Newcomers' prompts share one chunk a step while others decode, so that their next token
        # waits for one chunk at most, however many join at once.
        room = min(self._n_batch, n + CHUNK_WHILE_DECODING) if decoding else self._n_batch
        for seq in ready:
            if not seq.prefilling or n >= room:
                continue
            take = min(len(seq.prompt) - seq.fed, room - n)
            for i in range(take):
                last = seq.fed + i == len(seq.prompt) - 1
                self._put(n, seq.prompt[seq.fed + i], seq.fed + i, seq.seq_id, last)
                if last:
                    due.append((seq, n))
                n += 1
            seq.fed += take
        if n == 0:
            return
        batch.n_tokens = n
        rc = llama_lib.llama_decode(self._ctx, batch)
        self.steps += 1
        if rc != 0:
            why = f"llama.cpp could not decode the batch (llama_decode returned {rc})"
            with self._cond:
                for seq in ready:
                    seq.error = why
            return
        for seq, row in due:
            self._sample(seq, row)

    def _put(self, i: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
        batch = self._batch
        batch.token[i] = token
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq_id
        batch.logits[i] = logits

    def _sample(self, seq: _Seq, row: int) -> None:
        try:
            if self.record_margins:
                seq.margins.append(self._margin(row))
            token = seq.sampler.sample(self._ctx, row)
        except Exception as exc:  # this sequence's sampler failed; the others go on
            with self._cond:
                seq.error = f"sampling failed: {exc}"
            return
        with self._cond:
            seq.next_input = token
            seq.made.append(token)
            seq.wants = False
            self._cond.notify_all()

    def _margin(self, row: int) -> float:
        import numpy as np

        logits = np.ctypeslib.as_array(llama_lib.llama_get_logits_ith(self._ctx, row), (self._llm.n_vocab(),))
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
        super().__init__(batcher._llm, seq.prompt)
        self._batcher = batcher
        self._seq = seq

    @property
    def margins(self) -> list[float]:
        """The gap between the two best logits before each token, when the batcher records them."""
        return list(self._seq.margins)

    def step(self) -> Sequence[int]:
        return self._batcher._next_tokens(self._seq)

    def close(self) -> None:
        self._batcher._release(self._seq)
