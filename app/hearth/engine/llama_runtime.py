"""The model itself: load a GGUF with llama.cpp and stream tokens. Runs inside the engine process only."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

import llama_cpp
import llama_cpp.llama_cpp as llama_lib
import msgspec
from gguf import GGMLQuantizationType
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar

from hearth.core import llama_log
from hearth.core.gguf_header import GGUFError
from hearth.core.memory import uses_flash_attention
from hearth.core.offload import Accelerator, local_plan
from hearth.core.plan import split_key
from hearth.core.profile import read_profile
from hearth.engine import backends
from hearth.engine.batch import Batcher, BatchStream, Detokenizer
from hearth.engine.draft_model import DraftModel, check_compatible
from hearth.engine.errors import BadRequest, EngineError, LoadCancelled, LoadFailed, NoModelLoaded
from hearth.engine.messages import ChatMessage, Generate, Loaded, LoadModel, Sampling, parse_cache_type
from hearth.engine.threads import resolve as resolve_threads

_log_lines: deque[str] = deque(maxlen=4000)
_log_lock = threading.Lock()

log = logging.getLogger(__name__)


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


# A line of llama.cpp's log that says what went wrong; the first one is usually the cause.
_FAILED = re.compile(r"\b(error|failed|unable|cannot|out of memory)\b", re.IGNORECASE)
_PREFIX = re.compile(r"^\w+: ")


def _why(exc: ValueError) -> str:
    """The reason llama.cpp gave for a load that failed, as ": reason" (llama-cpp-python's own message
    says only that it failed)."""
    for line in _log_since():
        if _FAILED.search(line):
            return ": " + _PREFIX.sub("", line.strip())
    detail = str(exc).strip()
    return f": {detail}" if detail else ""


class _BuftOverride(ctypes.Structure):
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


@contextlib.contextmanager
def _model_params_hook(
    progress: Callable[[float], bool],
    remote: list[int],
    host_gpus: list[int],
    no_alloc: bool = False,
    head_on_remote: bool = False,
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
    if remote or host_gpus:
        from hearth.engine import ggml, rpc

        ours = [ggml.accelerators()[i].handle for i in host_gpus]
        if len(ours) + len(remote) > llama_lib.LLAMA_MAX_DEVICES:
            raise BadRequest(
                f"a load over {len(ours) + len(remote)} devices; llama.cpp takes at most "
                f"{llama_lib.LLAMA_MAX_DEVICES}"
            )
        devices = (ctypes.c_void_p * (len(ours) + len(remote) + 1))(*ours, *remote, None)
        # Keep the output head on the host, on its first accelerator when that holds layers: otherwise
        # the last device holds it and a worker sends back n_vocab logits a token. A model with tied
        # embeddings uses the token embedding as its head; llama.cpp places that copy with the output
        # layer unless the embedding's name is pinned too (pinned with the head, one copy is kept).
        # ``head_on_remote``: a dry run's stand-in plays this machine's first GPU.
        first = ours[:1] or (remote[:1] if head_on_remote else [])
        head = rpc.buffer_type(first[0]) if first else rpc.cpu_buffer_type()
        overrides = (_BuftOverride * 3)(
            _BuftOverride(rb"^output\.weight$", head),
            _BuftOverride(rb"^token_embd\.weight$", head),
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


@contextlib.contextmanager
def _context_params_hook(n_seq: int, batched: bool = False) -> Iterator[None]:
    """Give the context room for ``n_seq`` sequences, each with its own part of the KV cache, for one
    load (``Llama()`` builds its context parameters from the defaults and exposes neither field).
    ``batched``: the ``Batcher`` drives it, whatever ``n_seq``."""
    original = llama_lib.llama_context_default_params

    def params() -> llama_lib.llama_context_params:
        p: llama_lib.llama_context_params = original()
        p.n_seq_max = n_seq
        # Separate caches: a sequence's attention reads its own cells only, as it would alone.
        p.kv_unified = False
        return p

    if n_seq > 1 or batched:
        llama_lib.llama_context_default_params = params
    try:
        yield
    finally:
        llama_lib.llama_context_default_params = original


def _ggml_type(cache_type: str) -> int:
    # gguf's numbering is ggml's; the bindings lack some of the types (bf16).
    return int(GGMLQuantizationType[parse_cache_type(cache_type).upper()])


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
            raise EngineError(f"llama.cpp does not know the chat template '{name}'")
        if n <= size:
            return buf.raw[:n].decode("utf-8", errors="replace")
        size = n
    raise EngineError(f"the '{name}' chat template kept growing")


def _placement(req: LoadModel, rpc_servers: list[str]) -> tuple[int, list[float] | None, list[int]]:
    """``(n_gpu_layers, tensor_split, host_gpus)`` for a load: as asked, or with ``n_gpu_layers`` None
    and no workers, as many layers on this machine's accelerators as they hold."""
    from hearth.engine import ggml

    if req.n_gpu_layers is not None:
        return req.n_gpu_layers, req.tensor_split, list(req.host_gpus)
    found = ggml.accelerators()
    if rpc_servers or not found:
        return 0, req.tensor_split, list(req.host_gpus)
    try:
        profile = read_profile(req.path)
    except GGUFError:
        return 0, None, []  # llama.cpp's own error about the file follows
    free = [Accelerator(d.description or d.name, d.memory_free, d.memory_total) for d in found]
    plan = local_plan(profile, req.n_ctx, req.cache_type, free)
    n_gpu_layers, split = plan.llama_params()
    host_gpus = [index for a in plan.offloaded if (index := split_key(a.device)[1]) is not None]
    log.info("offloading %s to %s", plan, ", ".join(a.name for a in free))
    return n_gpu_layers, split, host_gpus


def spread_split(
    split: list[float] | None,
    host_gpus: int,
    per_server: list[int],
    targets: Sequence[tuple[int, int]] = (),
) -> list[float] | None:
    """``split`` (one entry per range of the plan: this machine's GPUs', then the other devices') over
    the devices llama.cpp sees, where a server may serve several (a donor's GPUs, then its CPU).
    ``targets``: the server and device of each range after this machine's GPUs (``LoadModel.
    rpc_targets``); without them each server's range goes to its first device."""
    if split is None:
        return None
    if not targets:
        if all(n == 1 for n in per_server) or len(split) == host_gpus + sum(per_server):
            return split  # one entry per device already
        if len(split) != host_gpus + len(per_server):
            raise BadRequest(
                f"a split of {len(split)} ranges for {host_gpus} GPUs here and {len(per_server)} RPC servers"
            )
        out = list(split[:host_gpus])
        for i, count in enumerate(per_server):
            out += [split[host_gpus + i], *([0.0] * (max(1, count) - 1))]
        return out
    if len(split) != host_gpus + len(targets):
        raise BadRequest(
            f"a split of {len(split)} ranges for {host_gpus} GPUs here and {len(targets)} elsewhere"
        )
    rows = [[0.0] * max(1, n) for n in per_server]
    before: tuple[int, int] = (-1, -1)
    for share, (server, device) in zip(split[host_gpus:], targets, strict=True):
        if not 0 <= server < len(rows):
            raise BadRequest(f"a range for RPC server {server + 1}, of {len(rows)} connected")
        count = len(rows[server])
        place = count - 1 if device < 0 else device
        # A worker lists its CPU last: an accelerator's index past its others is not one.
        if device >= 0 and device >= count - 1:
            raise BadRequest(f"RPC server {server + 1} serves {count - 1} GPUs, not a GPU number {device}")
        if (server, place) <= before:
            raise BadRequest("the ranges on other devices are out of their servers' order")
        before = (server, place)
        rows[server][place] = share
    return [*split[:host_gpus], *(share for row in rows for share in row)]


def _open(
    req: LoadModel,
    progress: Callable[[float], bool],
    rpc_servers: list[str],
    no_alloc: bool = False,
    head_on_remote: bool = False,
) -> llama_cpp.Llama:
    backends.load()
    threads = resolve_threads(req.n_threads)
    n_gpu_layers, split, host_gpus = _placement(req, rpc_servers)
    remote: list[list[int]] = []
    if rpc_servers:
        from hearth.engine import rpc

        remote = [rpc.add_server(endpoint) for endpoint in rpc_servers]
        split = spread_split(split, len(host_gpus), [len(devices) for devices in remote], req.rpc_targets)
    speculating = bool(req.draft or req.lookup)
    with (
        _model_params_hook(
            progress, [d for devices in remote for d in devices], host_gpus, no_alloc, head_on_remote
        ),
        _context_params_hook(req.parallel, speculating),
    ):
        return llama_cpp.Llama(
            req.path,
            n_ctx=req.n_ctx * req.parallel,
            n_batch=req.n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=n_gpu_layers,
            tensor_split=split,
            use_mmap=req.use_mmap,
            type_k=_ggml_type(req.cache_type),
            type_v=_ggml_type(req.cache_type),
            flash_attn=uses_flash_attention(req.cache_type, req.flash_attn),
            verbose=False,
        )


def dry_run(req: LoadModel, rpc_servers: list[str], head_on_first: bool = False) -> dict[str, int]:
    """The buffers llama.cpp would allocate for ``req`` over ``rpc_servers``, keyed as ``Loaded.buffers``
    (weights and KV caches read 0: a dry run sizes only the compute buffers from its graphs);
    ``head_on_first``: the first server's device computes the output head."""
    _log_mark()
    # llama.cpp aborts a dry run over a mapped file; unmapped, it still reads no weights.
    req = msgspec.structs.replace(req, use_mmap=False)
    try:
        llm = _open(req, lambda _: True, rpc_servers, no_alloc=True, head_on_remote=head_on_first)
    except BadRequest:
        raise
    except ValueError as exc:
        raise EngineError(f"llama.cpp could not size {req.path}{_why(exc)}") from None
    try:
        return llama_log.buffer_sizes(_log_since())
    finally:
        llm.close()


class LlamaRuntime:
    """One loaded model and its chat formatting."""

    def __init__(self) -> None:
        self.llm: llama_cpp.Llama | None = None
        self.batcher: Batcher | None = None
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

        if not os.path.exists(req.path):
            raise LoadFailed(f"there is no model at {req.path}: it may have been moved or deleted")
        _log_mark()
        try:
            llm = _open(req, on_progress, req.rpc_servers)
        except BadRequest:
            raise
        except ValueError as exc:
            if cancelled.is_set():
                raise LoadCancelled("loading was cancelled") from None
            raise LoadFailed(
                f"llama.cpp could not load {req.path}{_why(exc)}. Check that the file is a whole GGUF "
                "model (a download that stopped leaves it short) and that there is memory for it"
            ) from None
        self.llm = llm
        self.path = req.path
        draft = self._open_draft(req, llm) if req.draft else None
        # A draft that cannot draft gives way to guesses from the answers' own text.
        lookup = req.lookup or bool(req.draft and draft is None)
        if req.parallel > 1 or draft is not None or lookup:
            self.batcher = Batcher(llm, req.parallel, req.n_batch, draft=draft, lookup=lookup)
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
            n_ctx=self.n_ctx,
            n_vocab=llm.n_vocab(),
            has_chat_template=self._formatter is not None,
            chat_format="model" if template else self._builtin or TRANSCRIPT,
            # A template that reads the ``tools`` variable renders them (Qwen, Llama 3.x, Mistral, Hermes).
            tools=bool(template and re.search(r"\btools\b", template)),
            load_s=time.perf_counter() - started,
            buffers=llama_log.buffer_sizes(_log_since()),
            parallel=self.parallel,
            speculation=self.batcher.speculating if self.batcher is not None else "",
        )

    def _open_draft(self, req: LoadModel, target: llama_cpp.Llama) -> DraftModel | None:
        """The draft model for ``req``; None, with the reason logged, when it cannot draft for this
        model (gone, damaged, out of memory, another tokenizer): the model serves on, guessing from
        the answers' own text instead."""
        from hearth.engine import ggml

        if not os.path.exists(req.draft):
            log.warning("there is no draft model at %s; guessing from the answers' own text", req.draft)
            return None
        threads = resolve_threads(req.n_threads)
        try:
            with _context_params_hook(req.parallel, True):
                llm = llama_cpp.Llama(
                    req.draft,
                    n_ctx=req.n_ctx * req.parallel,
                    n_batch=req.n_batch,
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_gpu_layers=-1 if ggml.accelerators() else 0,
                    use_mmap=req.use_mmap,
                    verbose=False,
                )
        except ValueError as exc:
            log.warning("llama.cpp could not load the draft model %s%s", req.draft, _why(exc))
            return None
        try:
            check_compatible(target, llm, req.draft)
        except BadRequest as exc:
            llm.close()
            log.warning("%s; guessing from the answers' own text", exc)
            return None
        return DraftModel(llm, req.parallel, req.n_batch)

    @property
    def parallel(self) -> int:
        """How many answers the loaded model decodes at once."""
        return self.batcher.n_seq if self.batcher is not None else 1

    def _piece(self, token: int) -> str:
        assert self.llm is not None
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def unload(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
            if self.batcher.draft is not None:
                self.batcher.draft.close()
            self.batcher = None
        if self.llm is not None:
            self.llm.close()
        self.llm = None
        self._formatter = None
        self._builtin = None
        self.path = ""

    def _loaded(self) -> llama_cpp.Llama:
        if self.llm is None:
            raise NoModelLoaded("no model is loaded: load one first")
        return self.llm

    @property
    def n_ctx(self) -> int:
        """Each answer's context: with several at once, each holds its own part of the cache."""
        llm = self._loaded()
        if self.batcher is not None:
            return int(llama_lib.llama_n_ctx_seq(llm._ctx.ctx))
        return int(llm.n_ctx())

    def prompt_tokens(self, req: Generate) -> list[int]:
        llm = self._loaded()
        if req.messages is not None:
            return self.chat_tokens(req.messages, req.tools)
        return llm.tokenize((req.prompt or "").encode("utf-8"), add_bos=True, special=True)

    def chat_tokens(self, messages: list[ChatMessage], tools: str = "") -> list[int]:
        llm = self._loaded()
        as_dicts = [_as_dict(m) for m in messages]
        if self._formatter is not None:
            offered = json.loads(tools) if tools else None
            try:
                rendered = self._formatter(messages=as_dicts, tools=offered)  # type: ignore[arg-type]
            except ValueError as exc:
                # A template's raise_exception: the conversation breaks its rules (roles out of order).
                raise BadRequest(f"the model's chat template refused the conversation: {exc}") from None
            return llm.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        if self._builtin is not None:
            text = _apply_builtin(self._builtin, messages)
            return llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        # No template and no turn markers: a plain transcript still gives a base model something sensible.
        text = "".join(f"{m.role.capitalize()}: {m.content}\n" for m in messages) + "Assistant:"
        return llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def is_end(self, token: int) -> bool:
        llm = self._loaded()
        return bool(llama_lib.llama_vocab_is_eog(llm._model.vocab, token))

    def start(self, prompt: list[int], sampling: Sampling) -> _LlamaStream | BatchStream:
        llm = self._loaded()
        if self.batcher is not None:
            ends = not (isinstance(sampling, Generate) and sampling.ignore_eos)
            return self.batcher.open(prompt, sampling, _grammar(sampling.json_schema), ends)
        if sampling.seed is not None:
            llm.set_seed(sampling.seed)
        return _LlamaStream(llm, prompt, sampling)


def _grammar(json_schema: str) -> LlamaGrammar | None:
    """The grammar that holds an answer to ``json_schema``; None for free text."""
    if not json_schema:
        return None
    try:
        return LlamaGrammar.from_json_schema(json_schema, verbose=False)
    except (AssertionError, ValueError, KeyError, TypeError, RecursionError) as exc:
        # llama-cpp-python's converter says what it cannot turn into a grammar with an assertion.
        raise BadRequest(f"the JSON schema cannot be enforced: {exc}") from None


def _as_dict(message: ChatMessage) -> dict[str, object]:
    """A message as chat templates read it (Hugging Face's shape: a call's arguments as an object)."""
    out: dict[str, object] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": _json_or_text(c.arguments)},
            }
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


class _LlamaStream(Detokenizer):
    """An answer from llama-cpp-python's generator: one token a step, the prompt evaluated on the first."""

    drafted = 0  # it guesses nothing ahead
    accepted = 0
    guess_passes = 0

    def __init__(self, llm: llama_cpp.Llama, prompt: list[int], sampling: Sampling) -> None:
        super().__init__(llm, prompt)
        grammar = _grammar(sampling.json_schema)
        self._tokens = llm.generate(
            prompt,
            top_k=sampling.top_k,
            top_p=sampling.top_p,
            min_p=sampling.min_p,
            temp=sampling.temperature,
            repeat_penalty=sampling.repeat_factor,
            reset=True,
            grammar=grammar,
        )

    def step(self) -> Sequence[int]:
        token = next(self._tokens, None)
        return () if token is None else (int(token),)

    def close(self) -> None:
        self._tokens.close()
