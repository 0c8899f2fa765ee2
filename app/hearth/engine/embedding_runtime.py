"""An embedding model: a GGUF loaded in llama.cpp's embedding mode, turning inputs into vectors.

Runs inside the embedding engine process only. Any GGUF serves: an encoder made for embeddings (BERT,
nomic-bert, ...) pools as its file says; a chat model, whose file names no pooling, is mean-pooled over
its last hidden states, as llama.cpp's server pools such a model when asked. A whole batch is decoded
as one sequence per input, as many together as the batch holds.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable, Iterator

import llama_cpp
import numpy as np

from hearth.core.gguf_header import GGUFError, read_header
from hearth.engine import backends
from hearth.engine.errors import BadRequest, EngineError, LoadFailed, NoModelLoaded, PromptTooLong
from hearth.engine.messages import Embed, Embedded, Loaded, LoadModel
from hearth.engine.threads import resolve as resolve_threads

# GGUF's pooling types, as llama.cpp numbers them (``enum llama_pooling_type``).
POOLING_NONE = 0
POOLING_MEAN = 1
POOLING_RANK = 4


def _pooling(path: str) -> int:
    """The pooling the file asks for; mean where it names none."""
    try:
        metadata = read_header(path).metadata
    except (GGUFError, OSError) as exc:
        raise LoadFailed(f"cannot read the model {path}: {exc}") from None
    arch = metadata.get("general.architecture")
    pooling = metadata.get(f"{arch}.pooling_type", POOLING_NONE)
    if pooling == POOLING_RANK:
        raise LoadFailed(
            f"{os.path.basename(path)} is a reranker: it scores pairs of texts, it makes no vectors"
        )
    return pooling if isinstance(pooling, int) and pooling > POOLING_NONE else POOLING_MEAN


def _add(batch: llama_cpp.llama_batch, tokens: list[int], seq: int) -> None:
    """``tokens`` as sequence ``seq`` of ``batch``, every token an output (pooling reads them all)."""
    start = batch.n_tokens
    for i, token in enumerate(tokens):
        batch.token[start + i] = token
        batch.pos[start + i] = i  # type: ignore[call-overload]  # the bindings mistype the field
        batch.seq_id[start + i][0] = seq
        batch.n_seq_id[start + i] = 1
        batch.logits[start + i] = True
    batch.n_tokens = start + len(tokens)


class EmbeddingRuntime:
    def __init__(self) -> None:
        self.llm: llama_cpp.Llama | None = None
        self._batch: llama_cpp.llama_batch | None = None
        self.path = ""

    def load(self, req: LoadModel, progress: Callable[[float], bool] = lambda _: True) -> Loaded:
        self.unload()
        started = time.perf_counter()
        if not os.path.exists(req.path):
            raise LoadFailed(f"there is no model at {req.path}: it may have been moved or deleted")
        pooling = _pooling(req.path)
        backends.load()
        threads = resolve_threads(req.n_threads)
        try:
            # The whole context in one micro-batch: a pooled vector is read from the micro-batch that
            # holds its sequence, so a sequence must never be split over two.
            llm = llama_cpp.Llama(
                req.path,
                embedding=True,
                pooling_type=pooling,
                n_ctx=req.n_ctx,
                n_batch=req.n_ctx,
                n_ubatch=req.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=req.n_gpu_layers or 0,
                use_mmap=req.use_mmap,
                verbose=False,
            )
        except ValueError as exc:
            raise LoadFailed(
                f"llama.cpp could not load {req.path} for embeddings ({exc}). Check that the file is a "
                "whole GGUF model and that there is memory for it"
            ) from None
        self.llm = llm
        self.path = req.path
        n_ctx = int(llm.n_ctx())
        self._batch = llama_cpp.llama_batch_init(n_ctx, 0, 1)
        return Loaded(
            path=req.path,
            n_ctx=n_ctx,
            n_vocab=int(llm.n_vocab()),
            has_chat_template=False,
            load_s=time.perf_counter() - started,
        )

    @property
    def max_sequences(self) -> int:
        llm = self._loaded()
        return max(1, min(int(llm.n_ctx()), int(llama_cpp.llama_max_parallel_sequences()), 64))

    def _loaded(self) -> llama_cpp.Llama:
        if self.llm is None:
            raise NoModelLoaded("no embedding model is loaded: load one first")
        return self.llm

    def unload(self) -> None:
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
        if self.llm is not None:
            self.llm.close()
        self.llm = None
        self._batch = None
        self.path = ""

    def _inputs(self, req: Embed) -> list[list[int]]:
        """Every input as tokens that fit the context: cut to it with ``truncate``, else refused."""
        llm = self._loaded()
        n_ctx, n_vocab = int(llm.n_ctx()), int(llm.n_vocab())
        if req.texts:
            inputs = [llm.tokenize(text.encode("utf-8"), add_bos=True, special=False) for text in req.texts]
        else:
            inputs = [list(tokens) for tokens in req.tokens]
            for i, tokens in enumerate(inputs):
                wrong = next((t for t in tokens if not 0 <= t < n_vocab), None)
                if wrong is not None:
                    raise BadRequest(
                        f"input[{i}]: token {wrong} is not in the model's vocabulary (0 to {n_vocab - 1})"
                    )
        for i, tokens in enumerate(inputs):
            if not tokens:
                raise BadRequest(f"input[{i}] is empty: there is nothing to embed")
            if len(tokens) > n_ctx:
                if not req.truncate:
                    raise PromptTooLong(
                        f"input[{i}] is {len(tokens)} tokens, but the embedding model's context holds "
                        f"{n_ctx}: shorten it, or let it be truncated"
                    )
                inputs[i] = tokens[:n_ctx]
        return inputs

    def _groups(self, inputs: list[list[int]]) -> Iterator[list[list[int]]]:
        """The inputs in consecutive groups that one decode holds."""
        n_ctx, most = int(self._loaded().n_ctx()), self.max_sequences
        group: list[list[int]] = []
        size = 0
        for tokens in inputs:
            if group and (size + len(tokens) > n_ctx or len(group) >= most):
                yield group
                group, size = [], 0
            group.append(tokens)
            size += len(tokens)
        if group:
            yield group

    def embed(self, req: Embed) -> Embedded:
        llm = self._loaded()
        assert self._batch is not None
        started = time.perf_counter()
        inputs = self._inputs(req)
        n_embd = int(llm.n_embd())
        out = np.empty((len(inputs), n_embd), dtype="<f4")
        row = 0
        for group in self._groups(inputs):
            batch = self._batch
            batch.n_tokens = 0
            for seq, tokens in enumerate(group):
                _add(batch, tokens, seq)
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
            status = llama_cpp.llama_decode(llm.ctx, batch)
            if status != 0:
                raise EngineError(f"llama.cpp could not embed the input (llama_decode returned {status})")
            for seq in range(len(group)):
                pointer = llama_cpp.llama_get_embeddings_seq(llm.ctx, seq)
                if not pointer:
                    raise EngineError("llama.cpp made no pooled vector for the input")
                out[row] = np.ctypeslib.as_array(
                    ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (n_embd,)
                )
                row += 1
        if req.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.where(norms > 0, norms, 1.0)
        return Embedded(
            request_id=req.request_id,
            dimension=n_embd,
            vectors=out.tobytes(),
            prompt_tokens=sum(len(tokens) for tokens in inputs),
            embed_s=time.perf_counter() - started,
        )
