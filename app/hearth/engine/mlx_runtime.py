"""The model on MLX (mlx-lm): an MLX-format folder loaded and streamed on this Mac (or on Linux with
``mlx[cpu]``). The same messages, stop texts, cancel and stats as the llama.cpp runtime; pooling stays
with llama.cpp. Runs inside the engine process only."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

from hearth.engine.errors import LoadFailed, NoModelLoaded
from hearth.engine.messages import ChatMessage, Generate, Loaded, LoadModel, Sampling


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
        self._n_ctx = 0
        self.path = ""

    def load(self, req: LoadModel, progress: Callable[[float], bool]) -> Loaded:
        self.unload()
        if not available():
            raise LoadFailed(
                "MLX is not installed here: MLX models run on Apple Silicon (or with mlx[cpu]); "
                "on this device, use the model as GGUF"
            )
        import mlx.core as mx
        from mlx_lm import load

        started = time.perf_counter()
        progress(0.0)
        try:
            model, tokenizer = load(req.path)[:2]
            mx.eval(model.parameters())  # bring the weights in now rather than on the first token
        except MemoryError:
            raise
        except Exception as exc:  # whatever mlx-lm's readers raise: a missing file, an unknown model type
            detail = str(exc).strip() or "it gave no reason"
            raise LoadFailed(
                f"mlx-lm could not load {req.path}: {detail}. Check that the folder holds a whole MLX "
                "model (config.json, its *.safetensors and a tokenizer)"
            ) from exc
        progress(1.0)
        self.model, self.tokenizer, self._n_ctx, self.path = model, tokenizer, req.n_ctx, req.path
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
        self._n_ctx = 0
        self.path = ""

    def _loaded(self) -> None:
        if self.model is None:
            raise NoModelLoaded("no model is loaded: load one first")

    @property
    def n_ctx(self) -> int:
        self._loaded()
        return self._n_ctx

    def prompt_tokens(self, req: Generate) -> list[int]:
        self._loaded()
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

    def is_end(self, token: int) -> bool:
        self._loaded()
        return token in self.tokenizer.eos_token_ids

    def start(self, prompt: list[int], sampling: Sampling) -> _MlxStream:
        self._loaded()
        import mlx.core as mx
        from mlx_lm.generate import generate_step
        from mlx_lm.sample_utils import make_logits_processors, make_sampler

        if sampling.seed is not None:
            mx.random.seed(sampling.seed)
        sampler = make_sampler(
            temp=sampling.temperature, top_p=sampling.top_p, min_p=sampling.min_p, top_k=sampling.top_k
        )
        processors = (
            make_logits_processors(repetition_penalty=sampling.repeat_factor)
            if sampling.repeat_factor != 1.0
            else None
        )
        # No limit of mlx-lm's own (its default is 256 tokens): the decode loop ends the answer at
        # max_tokens or a full context.
        steps = generate_step(
            mx.array(prompt), self.model, max_tokens=-1, sampler=sampler, logits_processors=processors
        )
        return _MlxStream(steps, self.tokenizer.detokenizer)


class _MlxStream:
    """An answer from mlx-lm's generate_step: one token a step, the prompt evaluated on the first."""

    drafted = 0  # MLX answers without speculation
    accepted = 0
    guess_passes = 0

    def __init__(self, steps: Generator[tuple[Any, Any], None, None], detokenizer: Any) -> None:
        self._steps = steps
        self._detokenizer = detokenizer
        detokenizer.reset()

    def step(self) -> Sequence[int]:
        step = next(self._steps, None)
        return () if step is None else (int(step[0]),)

    def text(self, token: int) -> str:
        self._detokenizer.add_token(token)
        return str(self._detokenizer.last_segment)

    def rest(self) -> str:
        self._detokenizer.finalize()
        return str(self._detokenizer.last_segment)

    def close(self) -> None:
        self._steps.close()
