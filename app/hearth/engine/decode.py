"""One answer, token by token, the same way whichever backend (llama.cpp or MLX) holds the model.

The loop here decides everything an answer's user sees: the prompt must fit the context; the
answer ends at the model's end-of-generation token (unless asked to ignore it), at a stop text
(none of which is shown, even when it arrives split across tokens), at ``max_tokens`` ("length") or
when the context is full ("context"); a cancel is noticed between tokens ("cancelled", with what was
said until then kept); and ``Done`` carries the time to the first token and the decode time.

A backend provides a ``Runtime``: the loaded model, which turns a request into prompt tokens, knows
its end-of-generation tokens and its context size, and starts a ``Stream``, the answer being
computed. A stream's ``step`` may return more than one token: a backend that drafts tokens ahead
and verifies them in one pass (speculative decoding) hands over every accepted token at once and
the loop treats each as if it had come alone, ending mid-step where the answer ends. A backend that
answers several requests in one batch does so behind its streams, one per request, so this loop,
and what each request's user sees, stays the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hearth.core.stop_text import StopScanner
from hearth.engine.errors import PromptTooLong
from hearth.engine.messages import Done, Generate, Loaded, LoadModel, Sampling, StopReason, Token


class Stream(Protocol):
    """An answer being computed by a backend, from its prompt on."""

    def step(self) -> Sequence[int]:
        """The answer's next tokens, in order; usually one. The first call evaluates the prompt.
        Empty: the backend has nothing more to give."""
        ...

    def text(self, token: int) -> str:
        """The text ``token`` adds to the answer; a character split over several tokens comes with its
        last one. Called once per token shown, in order."""
        ...

    def rest(self) -> str:
        """What the detokenizer still holds once the answer has ended."""
        ...

    def close(self) -> None:
        """Free what the stream holds; the answer has ended (or failed)."""
        ...

    @property
    def drafted(self) -> int:
        """Tokens guessed ahead of the answer so far (speculative decoding); 0 without it."""
        ...

    @property
    def accepted(self) -> int:
        """How many of those guesses were the model's own next tokens."""
        ...

    @property
    def guess_passes(self) -> int:
        """How many of the model's passes verified guesses."""
        ...


class Runtime(Protocol):
    """What a backend provides the engine: a model it loads, and answers from it."""

    def load(self, req: LoadModel, progress: Callable[[float], bool]) -> Loaded:
        """Load ``req``'s model, replacing any other; ``progress`` gets 0..1 and returns False to cancel."""
        ...

    def unload(self) -> None: ...

    @property
    def n_ctx(self) -> int:
        """The context the loaded model holds, prompt and answer together, in tokens."""
        ...

    def prompt_tokens(self, req: Generate) -> list[int]:
        """``req``'s messages (through the model's chat template) or prompt, as tokens. Raises
        ``NoModelLoaded`` when no model is loaded."""
        ...

    def is_end(self, token: int) -> bool:
        """Whether ``token`` ends the model's turn (end of generation)."""
        ...

    def start(self, prompt: list[int], sampling: Sampling) -> Stream:
        """Begin an answer to ``prompt``, drawn as ``sampling`` says (its seed applied now)."""
        ...


def check_fits(prompt_tokens: int, n_ctx: int) -> None:
    if prompt_tokens >= n_ctx:
        raise PromptTooLong(
            f"the prompt has {prompt_tokens} tokens but the context holds {n_ctx}: shorten the "
            "conversation or load the model with a longer context"
        )


@dataclass
class _Said:
    """How far an answer got: tokens shown and when the first and the last of them arrived."""

    tokens: int = 0
    first_at: float = 0.0
    last_at: float = 0.0


def answer(
    runtime: Runtime, req: Generate, emit: Callable[[Token], None], cancelled: threading.Event
) -> Done:
    """Answer ``req`` from ``runtime``'s model, each token handed to ``emit`` as it is made, until the
    answer ends or ``cancelled`` is set; returns how it ended."""
    started = time.perf_counter()
    prompt = runtime.prompt_tokens(req)
    n_ctx = runtime.n_ctx
    check_fits(len(prompt), n_ctx)
    stops = StopScanner(req.stop)
    said = _Said()
    stream = runtime.start(prompt, req)
    try:
        reason = _decode(runtime, stream, req, len(prompt), n_ctx, stops, emit, cancelled, said)
        last_text = stream.rest()
        drafted, accepted, passes = stream.drafted, stream.accepted, stream.guess_passes
    finally:
        stream.close()
    # What the stop scanner held back (text that might have begun a stop) is shown after all, unless
    # a stop did begin there.
    tail = stops.feed(last_text) + stops.flush()
    if tail:
        emit(Token(req.request_id, -1, tail))
    ended = time.perf_counter()
    return Done(
        request_id=req.request_id,
        reason=reason,
        prompt_tokens=len(prompt),
        completion_tokens=said.tokens,
        ttft_s=(said.first_at or ended) - started,
        # From the first token to the last one shown: the step that found the end adds no token.
        decode_s=said.last_at - said.first_at if said.first_at else 0.0,
        drafted=drafted,
        accepted=accepted,
        guess_passes=passes,
    )


def _decode(
    runtime: Runtime,
    stream: Stream,
    req: Generate,
    prompt_tokens: int,
    n_ctx: int,
    stops: StopScanner,
    emit: Callable[[Token], None],
    cancelled: threading.Event,
    said: _Said,
) -> StopReason:
    if req.max_tokens <= 0:
        return "length"
    while True:
        # Checked before each step as well as after: a cancel that came in while the last token was
        # being sent spares the model one more token (or a whole prompt, when it overtook the request).
        if cancelled.is_set():
            return "cancelled"
        tokens = stream.step()
        now = time.perf_counter()
        if not tokens:
            return "stop"
        for token in tokens:
            # A step can take long (a prompt, a slow device of a pool): what it made after a cancel is
            # not shown.
            if cancelled.is_set():
                return "cancelled"
            said.first_at = said.first_at or now
            if not req.ignore_eos and runtime.is_end(token):
                return "stop"
            text = stops.feed(stream.text(token))
            said.tokens += 1
            said.last_at = now
            emit(Token(req.request_id, token, text))
            if stops.stopped:
                return "stop"
            if said.tokens >= req.max_tokens:
                return "length"
            if prompt_tokens + said.tokens >= n_ctx:
                return "context"
