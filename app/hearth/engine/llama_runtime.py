"""The model itself: load a GGUF with llama.cpp and stream tokens. Runs inside the engine process only."""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import msgspec
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from hearth.core import llama_log
from hearth.core.memory import uses_flash_attention
from hearth.core.stop_text import StopScanner
from hearth.engine import backends
from hearth.engine.answer import check_fits, finish
from hearth.engine.messages import ChatMessage, Done, Generate, Loaded, LoadModel, Token
from hearth.engine.threads import resolve as resolve_threads

_log_lines: deque[str] = deque(maxlen=4000)
_log_lock = threading.Lock()


@llama_lib.llama_log_callback  # type: ignore[untyped-decorator]  # ctypes callback type, untyped
def _on_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    line = text.decode("utf-8", errors="replace")
    with _log_lock:
        _log_lines.append(line)
    sys.stderr.write(line)


def install_log_capture() -> None:
    """Route llama.cpp's log through this process's stderr and keep recent lines for allocation reports."""
    llama_lib.llama_log_set(_on_log, ctypes.c_void_p(0))


def _log_mark() -> int:
    with _log_lock:
        _log_lines.clear()
        return 0


def _log_since() -> list[str]:
    with _log_lock:
        return list(_log_lines)


class LoadCancelled(Exception):
    pass


class _BuftOverride(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


@contextlib.contextmanager
def _model_params_hook(
    progress: Callable[[float], bool], rpc_servers: list[str], no_alloc: bool = False
) -> Iterator[None]:
    """Give llama.cpp a load-progress callback and, when pooling, its device list and output pinning;
    with ``no_alloc``, a dry run that allocates nothing and reports what it would.

    ``Llama()`` builds its model parameters from ``llama_model_default_params`` and exposes neither
    hook, so the defaults are wrapped for the duration of one load.
    """
    original = llama_lib.llama_model_default_params

    @llama_lib.llama_progress_callback  # type: ignore[untyped-decorator]  # ctypes callback type, untyped
    def on_progress(fraction: float, user_data: ctypes.c_void_p) -> bool:
        return bool(progress(float(fraction)))

    devices = overrides = None
    if rpc_servers:
        from hearth.engine import rpc

        remote = [dev for endpoint in rpc_servers for dev in rpc.add_server(endpoint)]
        devices = (ctypes.c_void_p * (len(remote) + 1))(*remote, None)
        # Keep the output head on the host: otherwise the last worker holds it and sends back n_vocab
        # logits a token. A model with tied embeddings uses the token embedding as its head; llama.cpp
        # places that copy with the output layer unless the embedding's name is pinned too (the input
        # copy is on the host already, so pinning keeps one copy).
        cpu = rpc.cpu_buffer_type()
        overrides = (_BuftOverride * 3)(
            _BuftOverride(rb"^output\.weight$", cpu),
            _BuftOverride(rb"^token_embd\.weight$", cpu),
            _BuftOverride(),
        )

    def params() -> llama_lib.llama_model_params:
        p: llama_lib.llama_model_params = original()
        p.progress_callback = on_progress
        p.no_alloc = no_alloc
        if devices is not None and overrides is not None:
            # The bindings declare these as arrays; llama.cpp takes pointers, which is what is stored.
            p.devices = ctypes.cast(devices, ctypes.c_void_p)  # type: ignore[assignment]
            p.tensor_buft_overrides = ctypes.cast(overrides, ctypes.c_void_p)  # type: ignore[assignment]
        return p

    llama_lib.llama_model_default_params = params
    try:
        yield
    finally:
        llama_lib.llama_model_default_params = original


def _ggml_type(cache_type: str) -> int:
    name = f"GGML_TYPE_{cache_type.upper()}"
    value = getattr(llama_lib, name, None)
    if value is None:
        raise ValueError(f"unknown KV cache type '{cache_type}'")
    return int(value)


TRANSCRIPT = "transcript"
# A file without a chat template whose vocabulary has one of these turn markers was tuned (or converted)
# with that format; llama.cpp formats it under the built-in template's name.
_TURN_MARKERS = (
    ("<|im_start|>", "chatml"),
    ("<start_of_turn>", "gemma"),
    ("<|start_header_id|>", "llama3"),
    ("<|user|>", "phi3"),
    ("[INST]", "llama2"),
)


def _builtin_template(llm: llama_cpp.Llama) -> str | None:
    for marker, name in _TURN_MARKERS:
        if len(llm.tokenize(marker.encode("utf-8"), add_bos=False, special=True)) == 1:
            return name
    return None


def _apply_builtin(name: str, messages: list[ChatMessage]) -> str:
    encoded = [(m.role.encode("utf-8"), m.content.encode("utf-8")) for m in messages]
    chat = (llama_lib.llama_chat_message * len(encoded))(
        *(llama_lib.llama_chat_message(role, content) for role, content in encoded)
    )
    size = 256 + 2 * sum(len(r) + len(c) for r, c in encoded)
    for _ in range(2):
        buf = ctypes.create_string_buffer(size)
        n = llama_lib.llama_chat_apply_template(name.encode(), chat, len(encoded), True, buf, size)
        if n < 0:
            raise RuntimeError(f"llama.cpp does not know the chat template '{name}'")
        if n <= size:
            return buf.raw[:n].decode("utf-8", errors="replace")
        size = n
    raise RuntimeError(f"the '{name}' chat template kept growing")


def _open(
    req: LoadModel, progress: Callable[[float], bool], rpc_servers: list[str], no_alloc: bool = False
) -> llama_cpp.Llama:
    backends.load()
    threads = resolve_threads(req.n_threads)
    with _model_params_hook(progress, rpc_servers, no_alloc):
        return llama_cpp.Llama(
            req.path,
            n_ctx=req.n_ctx,
            n_batch=req.n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=req.n_gpu_layers,
            tensor_split=req.tensor_split,
            use_mmap=req.use_mmap,
            type_k=_ggml_type(req.cache_type),
            type_v=_ggml_type(req.cache_type),
            flash_attn=uses_flash_attention(req.cache_type, req.flash_attn),
            verbose=False,
        )


def dry_run(req: LoadModel, rpc_servers: list[str]) -> dict[str, int]:
    """The buffers llama.cpp would allocate for ``req`` over ``rpc_servers``, keyed as ``Loaded.buffers``
    (weights and KV caches read 0: a dry run sizes only the compute buffers from its graphs)."""
    _log_mark()
    # llama.cpp aborts a dry run over a mapped file; unmapped, it still reads no weights.
    req = msgspec.structs.replace(req, use_mmap=False)
    try:
        llm = _open(req, lambda _: True, rpc_servers, no_alloc=True)
    except ValueError as exc:
        raise RuntimeError(f"llama.cpp could not size {req.path}: {exc}") from None
    try:
        return llama_log.buffer_sizes(_log_since())
    finally:
        llm.close()


class LlamaRuntime:
    """One loaded model and its chat formatting."""

    def __init__(self) -> None:
        self.llm: llama_cpp.Llama | None = None
        self._formatter: Jinja2ChatFormatter | None = None
        self._builtin: str | None = None
        self.path = ""

    def load(self, req: LoadModel, progress: Callable[[float], bool]) -> Loaded:
        self.unload()
        started = time.perf_counter()
        cancelled = threading.Event()

        def on_progress(fraction: float) -> bool:
            keep_going = progress(fraction)
            if not keep_going:
                cancelled.set()
            return keep_going

        _log_mark()
        try:
            llm = _open(req, on_progress, req.rpc_servers)
        except ValueError as exc:
            if cancelled.is_set():
                raise LoadCancelled() from None
            raise RuntimeError(f"llama.cpp could not load {req.path}: {exc}") from None
        self.llm = llm
        self.path = req.path
        template = llm.metadata.get("tokenizer.chat_template")
        self._formatter = None
        if template:
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self._piece(llm.token_eos()),
                bos_token=self._piece(llm.token_bos()),
            )
        self._builtin = None if template else _builtin_template(llm)
        return Loaded(
            path=req.path,
            n_ctx=llm.n_ctx(),
            n_vocab=llm.n_vocab(),
            has_chat_template=self._formatter is not None,
            chat_format="model" if template else self._builtin or TRANSCRIPT,
            load_s=time.perf_counter() - started,
            buffers=llama_log.buffer_sizes(_log_since()),
        )

    def _piece(self, token: int) -> str:
        assert self.llm is not None
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def unload(self) -> None:
        if self.llm is not None:
            self.llm.close()
        self.llm = None
        self._formatter = None
        self._builtin = None
        self.path = ""

    def prompt_tokens(self, req: Generate) -> list[int]:
        llm = self.llm
        assert llm is not None
        if req.messages is not None:
            return self.chat_tokens(req.messages)
        return llm.tokenize((req.prompt or "").encode("utf-8"), add_bos=True, special=True)

    def chat_tokens(self, messages: list[ChatMessage]) -> list[int]:
        llm = self.llm
        assert llm is not None
        as_dicts = [{"role": m.role, "content": m.content} for m in messages]
        if self._formatter is not None:
            rendered = self._formatter(messages=as_dicts)  # type: ignore[arg-type]
            return llm.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        if self._builtin is not None:
            text = _apply_builtin(self._builtin, messages)
            return llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        # No template and no turn markers: a plain transcript still gives a base model something sensible.
        text = "".join(f"{m.role.capitalize()}: {m.content}\n" for m in messages) + "Assistant:"
        return llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def generate(self, req: Generate, emit: Callable[[Token], None], cancelled: threading.Event) -> Done:
        llm = self.llm
        if llm is None:
            raise RuntimeError("no model is loaded")
        started = time.perf_counter()
        tokens = self.prompt_tokens(req)
        n_ctx = llm.n_ctx()
        check_fits(len(tokens), n_ctx)
        if req.seed is not None:
            llm.set_seed(req.seed)
        vocab = llm._model.vocab
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = StopScanner(req.stop)
        produced: list[int] = []
        reason = "length"
        first_at = last_at = 0.0
        generator = llm.generate(
            tokens,
            top_k=req.top_k,
            top_p=req.top_p,
            min_p=req.min_p,
            temp=req.temperature,
            repeat_penalty=req.repeat_penalty,
            reset=True,
        )
        try:
            for token in generator:
                if cancelled.is_set():
                    reason = "cancelled"
                    break
                now = time.perf_counter()
                first_at = first_at or now
                if not req.ignore_eos and llama_lib.llama_vocab_is_eog(vocab, token):
                    reason = "stop"
                    break
                piece = llm.detokenize([token], prev_tokens=tokens + produced)
                produced.append(token)
                last_at = now
                emit(Token(req.request_id, token, stops.feed(decoder.decode(piece))))
                if stops.stopped:
                    reason = "stop"
                    break
                if len(produced) >= req.max_tokens:
                    reason = "length"
                    break
                if len(tokens) + len(produced) >= n_ctx:
                    reason = "context"
                    break
        finally:
            generator.close()
        return finish(
            req,
            stops,
            decoder.decode(b"", final=True),
            emit,
            reason=reason,
            prompt_tokens=len(tokens),
            completion_tokens=len(produced),
            started=started,
            first_at=first_at,
            last_at=last_at,
        )
