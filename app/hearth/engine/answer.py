"""What both runtimes (llama.cpp and MLX) do around an answer: refuse a prompt that does not fit, and
end it the same way (the stop scanner's held-back text sent, the timings in ``Done``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from hearth.core.stop_text import StopScanner
from hearth.engine.messages import Done, Generate, Token


class PromptTooLong(ValueError):
    """The prompt does not fit the context the model was loaded with."""


def check_fits(prompt_tokens: int, n_ctx: int) -> None:
    if prompt_tokens >= n_ctx:
        raise PromptTooLong(f"the prompt has {prompt_tokens} tokens but the context holds {n_ctx}")


def finish(
    req: Generate,
    stops: StopScanner,
    last_text: str,
    emit: Callable[[Token], None],
    *,
    reason: str,
    prompt_tokens: int,
    completion_tokens: int,
    started: float,
    first_at: float,
    last_at: float,
) -> Done:
    """Send what the stop scanner still holds (with ``last_text``, the decoder's remainder) and say
    how the answer ended. ``first_at``/``last_at``: when the first and the last token shown arrived
    (0 when none did); ``started``: when the request was taken."""
    tail = stops.feed(last_text) + stops.flush()
    if tail:
        emit(Token(req.request_id, -1, tail))
    ended = time.perf_counter()
    return Done(
        request_id=req.request_id,
        reason=reason,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        ttft_s=(first_at or ended) - started,
        # From the first token to the last one shown: the step that found the end adds no token.
        decode_s=last_at - first_at if first_at else 0.0,
    )
