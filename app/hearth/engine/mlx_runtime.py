"""The model on MLX (mlx-lm): an MLX-format folder loaded and streamed on this Mac (or on Linux with
``mlx[cpu]``). The same messages, stop texts, cancel and stats as the llama.cpp runtime; pooling stays
with llama.cpp. Runs inside the engine process only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from hearth.core.stop_text import StopScanner
from hearth.engine.answer import check_fits, finish
from hearth.engine.messages import ChatMessage, Done, Generate, Loaded, LoadModel, Token


def available() -> bool:
    try:
        import mlx.core  # noqa: F401
        import mlx_lm  # noqa: F401
    except ImportError:
        return False
    return True


class MlxRuntime:
    def __init__(self) -> None:
        self.model: Any = None
        self.tokenizer: Any = None
        self.n_ctx = 0
        self.path = ""

    def load(self, req: LoadModel, progress: Callable[[float], bool]) -> Loaded:
        self.unload()
        if not available():
            raise RuntimeError(
                "MLX is not installed here: MLX models run on Apple Silicon (or with mlx[cpu])"
            )
        import mlx.core as mx
        from mlx_lm import load

        started = time.perf_counter()
        progress(0.0)
        model, tokenizer = load(req.path)[:2]
        mx.eval(model.parameters())  # bring the weights in now rather than on the first token
        progress(1.0)
        self.model, self.tokenizer, self.n_ctx, self.path = model, tokenizer, req.n_ctx, req.path
        template = bool(getattr(tokenizer, "chat_template", None))
        return Loaded(
            path=req.path,
            n_ctx=req.n_ctx,
            n_vocab=len(tokenizer.vocab) if hasattr(tokenizer, "vocab") else 0,
            has_chat_template=template,
            chat_format="model" if template else "transcript",
            load_s=time.perf_counter() - started,
        )

    def unload(self) -> None:
        self.model = self.tokenizer = None
        self.n_ctx = 0
        self.path = ""

    def prompt_tokens(self, req: Generate) -> list[int]:
        tokenizer = self.tokenizer
        if req.messages is None:
            return list(tokenizer.encode(req.prompt or ""))
        if getattr(tokenizer, "chat_template", None):
            return list(self._chat(req.messages))
        text = "".join(f"{m.role.capitalize()}: {m.content}\n" for m in req.messages) + "Assistant:"
        return list(tokenizer.encode(text))

    def _chat(self, messages: list[ChatMessage]) -> list[int]:
        as_dicts = [{"role": m.role, "content": m.content} for m in messages]
        tokens = self.tokenizer.apply_chat_template(as_dicts, add_generation_prompt=True)
        return list(tokens["input_ids"] if isinstance(tokens, dict) else tokens)

    def generate(self, req: Generate, emit: Callable[[Token], None], cancelled: threading.Event) -> Done:
        if self.model is None:
            raise RuntimeError("no model is loaded")
        import mlx.core as mx
        from mlx_lm.generate import generate_step
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        started = time.perf_counter()
        tokens = self.prompt_tokens(req)
        check_fits(len(tokens), self.n_ctx)
        if req.seed is not None:
            mx.random.seed(req.seed)
        sampler = make_sampler(temp=req.temperature, top_p=req.top_p, min_p=req.min_p, top_k=req.top_k)
        processors = (
            make_logits_processors(repetition_penalty=req.repeat_penalty)
            if req.repeat_penalty != 1.0
            else None
        )
        budget = min(req.max_tokens, self.n_ctx - len(tokens))
        detokenizer = self.tokenizer.detokenizer
        detokenizer.reset()
        eos = set(self.tokenizer.eos_token_ids)
        stops = StopScanner(req.stop)
        produced = 0
        reason = "length" if budget == req.max_tokens else "context"
        first_at = last_at = 0.0
        steps = generate_step(
            mx.array(tokens), self.model, max_tokens=budget, sampler=sampler, logits_processors=processors
        )
        for step, _ in steps:
            if cancelled.is_set():
                reason = "cancelled"
                break
            now = time.perf_counter()
            first_at = first_at or now
            token = int(step)
            if token in eos and not req.ignore_eos:
                reason = "stop"
                break
            detokenizer.add_token(token)
            produced += 1
            last_at = now
            emit(Token(req.request_id, token, stops.feed(detokenizer.last_segment)))
            if stops.stopped:
                reason = "stop"
                break
        detokenizer.finalize()
        return finish(
            req,
            stops,
            detokenizer.last_segment,
            emit,
            reason=reason,
            prompt_tokens=len(tokens),
            completion_tokens=produced,
            started=started,
            first_at=first_at,
            last_at=last_at,
        )
