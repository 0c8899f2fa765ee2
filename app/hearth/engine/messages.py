"""Messages between a client and the engine process, and their framing on a byte stream.

Frames are a 4-byte big-endian length and a MessagePack body. Decoding is strict: an unknown tag, a
missing field or a wrong type raises ``ProtocolError``, so a corrupt stream is never half-understood.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, get_args

import msgspec

from hearth.core.errors import HearthError
from hearth.core.formats import ModelFormat
from hearth.core.plan import HOST, device_of, split_key
from hearth.engine.errors import BadRequest, FailureKind

if TYPE_CHECKING:
    from hearth.core.plan import Plan
    from hearth.core.profile import ModelProfile

MAX_FRAME = 16 * 1024 * 1024
_LEN = struct.Struct(">I")


class ProtocolError(HearthError, ValueError):
    """A frame that is too large or does not decode into a known message."""


class ToolCall(msgspec.Struct, frozen=True):
    """A call of one of the request's tools that the model made: its arguments as JSON text."""

    id: str
    name: str
    arguments: str


class ChatMessage(msgspec.Struct, frozen=True):
    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant's turn that called tools
    tool_call_id: str = ""  # a "tool" turn: the call whose result it carries


# The KV cache types llama.cpp offers (common/arg.cpp's kv_cache_types), as core.profile sizes them.
CacheType = Literal["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl"]
CACHE_TYPES: tuple[CacheType, ...] = get_args(CacheType)
# "llama": llama.cpp, a GGUF here or spread over devices; "mlx": mlx-lm, an MLX folder on this device.
Backend = Literal["llama", "mlx"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
# The backend that runs each format; the wire keeps naming backends, which a format chooses.
BACKEND_OF: dict[ModelFormat, Backend] = {ModelFormat.GGUF: "llama", ModelFormat.MLX: "mlx"}
# How an answer ended: the model ended it (or a stop text did), max_tokens, the context is full, or the
# user stopped it.
StopReason = Literal["stop", "length", "context", "cancelled"]
# The most answers one loaded model decodes at once.
MAX_PARALLEL = 64


def parse_cache_type(name: str) -> CacheType:
    """``name`` as a cache type; a name llama.cpp does not offer is refused with the ones it does."""
    for known in CACHE_TYPES:
        if name == known:
            return known
    raise BadRequest(f"unknown KV cache type '{name}' (llama.cpp offers {', '.join(CACHE_TYPES)})")


# --- requests (client -> engine) ---


class LoadModel(msgspec.Struct, tag="load", frozen=True):
    path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int = 512
    cache_type: CacheType = "f16"
    # None: on exactly when the cache type is quantized, which llama.cpp requires for a quantized V cache.
    flash_attn: bool | None = None
    # Layers on accelerators, as llama.cpp counts them (-1: all). None: as many as fit on this machine's
    # own accelerators, the rest on its CPU (the engine plans them with ``core.planner``): what a user
    # of llama.cpp, LM Studio or Ollama gets without asking; 0 keeps every layer on the CPU.
    n_gpu_layers: int | None = None
    use_mmap: bool = True
    # Pooling: RPC servers (127.0.0.1:port, through Hearth's tunnel) in pipeline order, and the split.
    rpc_servers: list[str] = []
    tensor_split: list[float] | None = None
    # This machine's accelerators a plan puts layers on (their order among its GPUs), before the RPC
    # servers in the pipeline; the first computes the output head.
    host_gpus: list[int] = []
    # For each ``tensor_split`` entry after this machine's GPUs: which RPC server takes it and which of
    # that server's devices, an accelerator's index or -1 for its CPU (a worker lists it last).
    # Empty: each server's range goes to its first device.
    rpc_targets: list[tuple[int, int]] = []
    backend: Backend = "llama"
    # How many answers the model decodes at once (continuous batching), each with a context of
    # ``n_ctx`` tokens: the KV cache holds ``parallel`` times as much. 1: one answer at a time.
    parallel: int = 1
    # Speculative decoding: a draft model's GGUF (same tokenizer, far smaller) that guesses tokens for
    # this one to verify several at a time; "": none. ``lookup``: without a draft model, guess from
    # what the answer and its prompt already say (prompt lookup).
    draft: str = ""
    lookup: bool = False

    def __post_init__(self) -> None:
        # Typed callers cannot get these wrong; a string from outside (a setting, an API request) is
        # refused here, in the caller's process, with a reason, rather than by llama.cpp later.
        parse_cache_type(self.cache_type)
        if self.backend not in BACKENDS:
            raise BadRequest(f"unknown backend '{self.backend}' (known: {', '.join(BACKENDS)})")
        if not 1 <= self.parallel <= MAX_PARALLEL:
            raise BadRequest(f"answers at once must be 1 to {MAX_PARALLEL}, not {self.parallel}")
        # llama.cpp aborts the whole process creating a context whose batch cannot hold one token of
        # each answer.
        if self.n_batch < self.parallel:
            raise BadRequest(f"a batch of {self.n_batch} tokens cannot hold {self.parallel} answers at once")

    @classmethod
    def for_plan(
        cls,
        profile: ModelProfile,
        plan: Plan,
        n_ctx: int,
        *,
        rpc_servers: Sequence[str] = (),
        threads: int | None = None,
        cache_type: str = "f16",
        parallel: int = 1,
    ) -> LoadModel:
        """The load that runs ``profile`` as ``plan`` places its layers: llama.cpp told the plan exactly
        (``Plan.llama_params``), the backend chosen by the model's format. ``rpc_servers``: one endpoint
        per remote device of the plan, in pipeline order. ``threads`` None: as many as llama.cpp
        itself would use."""
        if len(rpc_servers) != len(plan.remote_devices):
            raise BadRequest(
                f"the plan {plan} places layers on {len(plan.remote_devices)} other devices, "
                f"but {len(rpc_servers)} are connected"
            )
        return cls._placed(profile, plan, n_ctx, list(rpc_servers), threads, cache_type, parallel)

    @classmethod
    def _placed(
        cls,
        profile: ModelProfile,
        plan: Plan,
        n_ctx: int,
        rpc_servers: list[str],
        threads: int | None,
        cache_type: str,
        parallel: int = 1,
    ) -> LoadModel:
        if plan.offloaded and not profile.format.can_pool:
            raise BadRequest("an MLX model runs on this device only; pooling needs the model as GGUF")
        n_gpu_layers, split = plan.llama_params()
        ours = [a for a in plan.offloaded if device_of(a.device) == HOST]
        if plan.offloaded[: len(ours)] != tuple(ours):
            raise BadRequest(f"in the plan {plan}, this device's accelerators must come before other devices")
        host_gpus = [index for a in ours if (index := split_key(a.device)[1]) is not None]
        return cls(
            profile.path,
            n_ctx=n_ctx,
            n_threads=threads,
            cache_type=parse_cache_type(cache_type),
            n_gpu_layers=n_gpu_layers,
            tensor_split=split,
            rpc_servers=rpc_servers,
            host_gpus=host_gpus,
            rpc_targets=plan.rpc_targets(),
            backend=BACKEND_OF[profile.format],
            # MLX decodes one answer at a time.
            parallel=parallel if profile.format.can_pool else 1,
        )


# The ranges of the sampling numbers: the widest any of the APIs accepts (OpenAI's and Ollama's), so
# that a request another device routes here is refused only where this device's own API would refuse it.
Temperature = Annotated[float, msgspec.Meta(ge=0.0, le=2.0)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
TopK = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
Penalty = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
Seed = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # OpenAI's: a 64-bit integer


class _Drawn(msgspec.Struct, frozen=True):
    temperature: Temperature
    top_k: TopK
    top_p: Probability
    min_p: Probability
    repeat_penalty: Penalty
    seed: Seed | None


def sampling_problem(sampling: Sampling) -> str | None:
    """What is out of range in ``sampling`` (naming the field), or None when every number is within
    what the APIs accept."""
    drawn = {name: getattr(sampling, name) for name in _Drawn.__struct_fields__}
    try:
        msgspec.convert(drawn, _Drawn)
    except msgspec.ValidationError as exc:
        return str(exc)
    return None


class Sampling(msgspec.Struct, frozen=True, kw_only=True):
    """How an answer is drawn; a chat keeps one for all its answers."""

    max_tokens: int = 512
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None
    stop: list[str] = []  # the answer ends before the first of these; none of it is sent
    # A JSON schema, as JSON text, that the answer must match: llama.cpp draws only tokens its grammar
    # allows, so the answer parses whatever the model would have said. "": free text.
    json_schema: str = ""
    # The tools the model may call, as JSON text in OpenAI's shape (a list of {"type": "function",
    # "function": {...}}), rendered by the model's own chat template. "": none.
    tools: str = ""

    @property
    def repeat_factor(self) -> float:
        """The repeat penalty as llama.cpp and mlx-lm apply it: 1 leaves repeats alone, and so does 0,
        which llama.cpp would divide a repeated token's positive logit by (making it infinite)."""
        return self.repeat_penalty or 1.0


class Generate(Sampling, tag="generate", frozen=True):
    request_id: int
    messages: list[ChatMessage] | None = None
    prompt: str | None = None
    ignore_eos: bool = False


class Cancel(msgspec.Struct, tag="cancel", frozen=True):
    request_id: int


class CancelLoad(msgspec.Struct, tag="cancel_load", frozen=True):
    pass


class Unload(msgspec.Struct, tag="unload", frozen=True):
    pass


class Shutdown(msgspec.Struct, tag="shutdown", frozen=True):
    pass


class Estimate(msgspec.Struct, tag="estimate", frozen=True):
    """What ``load`` would allocate on each device, asked of llama.cpp without allocating anything.
    ``load.rpc_servers`` is not used: the engine stands in for ``remote_devices`` devices itself.
    ``head_on_first``: the first of them computes the output head, as this machine's first GPU
    would."""

    load: LoadModel
    remote_devices: int = 0
    head_on_first: bool = False

    @classmethod
    def for_plan(cls, profile: ModelProfile, plan: Plan, n_ctx: int, *, cache_type: str = "f16") -> Estimate:
        """What loading ``profile`` as ``plan`` would allocate, before any of its devices is reserved:
        every pool off this device's CPU a stand-in device of its own, this machine's GPUs and other
        devices' alike (a device's buffers are its own whichever server serves it)."""
        load = LoadModel._placed(profile, plan, n_ctx, [], None, cache_type)
        pools = len(plan.offloaded)
        load = msgspec.structs.replace(load, host_gpus=[], rpc_targets=[(i, -1) for i in range(pools)])
        head_on_first = any(device_of(a.device) == HOST for a in plan.offloaded)
        return cls(load, remote_devices=pools, head_on_first=head_on_first)


Request = LoadModel | Generate | Cancel | CancelLoad | Unload | Shutdown | Estimate


# --- events (engine -> client) ---


class Ready(msgspec.Struct, tag="ready", frozen=True):
    pid: int
    llama_cpp_version: str
    supports_rpc: bool


class LoadProgress(msgspec.Struct, tag="progress", frozen=True):
    fraction: float


class Loaded(msgspec.Struct, tag="loaded", frozen=True):
    path: str
    n_ctx: int
    n_vocab: int
    has_chat_template: bool
    load_s: float
    # Buffer sizes llama.cpp reported while loading, in bytes, keyed like "CPU model" or "CPU KV".
    buffers: dict[str, int] = {}
    # How chat messages become a prompt: "model" (the file's own template), the name of one of llama.cpp's
    # built-in templates that matches the vocabulary's turn markers, or "transcript" (plain text).
    chat_format: str = "model"
    # Whether the model's own chat template renders tool definitions (only then can a request offer tools).
    tools: bool = False
    # How many answers it decodes at once; ``n_ctx`` is each one's context.
    parallel: int = 1
    # Where guessed tokens come from: "draft" (the draft model), "lookup" (the answer itself) or "".
    speculation: str = ""


class Unloaded(msgspec.Struct, tag="unloaded", frozen=True):
    pass


class Token(msgspec.Struct, tag="token", frozen=True):
    request_id: int
    id: int
    text: str


class Done(msgspec.Struct, tag="done", frozen=True):
    request_id: int
    reason: StopReason
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    decode_s: float
    # Speculative decoding: tokens guessed ahead, and how many of them the model confirmed.
    drafted: int = 0
    accepted: int = 0
    guess_passes: int = 0  # the model's passes that verified guesses

    @property
    def acceptance(self) -> float | None:
        """The share of guessed tokens the model confirmed; None when nothing was guessed."""
        return self.accepted / self.drafted if self.drafted else None

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens per second after the first token (the first one carries the prompt's cost)."""
        return (
            (self.completion_tokens - 1) / self.decode_s
            if self.completion_tokens > 1 and self.decode_s
            else 0.0
        )


class Failure(msgspec.Struct, tag="error", frozen=True):
    message: str  # for the user: what happened and what to do
    request_id: int | None = None
    kind: FailureKind = "engine"  # which EngineError the client raises (engine.errors)


class Estimated(msgspec.Struct, tag="estimated", frozen=True):
    """Compute buffers (llama.cpp's compute and output buffers), in bytes: this device's, then each
    remote device's in plan order."""

    host: int
    remotes: list[int]


Event = Ready | LoadProgress | Loaded | Unloaded | Token | Done | Failure | Estimated

_encoder = msgspec.msgpack.Encoder()
_request_decoder: msgspec.msgpack.Decoder[Request] = msgspec.msgpack.Decoder(Request)
_event_decoder: msgspec.msgpack.Decoder[Event] = msgspec.msgpack.Decoder(Event)


def encode(message: Request | Event) -> bytes:
    """One framed message."""
    body = _encoder.encode(message)
    return _LEN.pack(len(body)) + body


def frame_length(prefix: bytes) -> int:
    """Length of the body that follows a 4-byte prefix; rejects absurd sizes before anything is read."""
    n = int(_LEN.unpack(prefix)[0])
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes exceeds the {MAX_FRAME}-byte limit")
    return n


def decode_request(body: bytes) -> Request:
    try:
        return _request_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"bad request: {exc}") from None


def decode_event(body: bytes) -> Event:
    try:
        return _event_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"bad event: {exc}") from None


# --- embeddings: the engine process of an embedding model (``engine.embedding_process``) ---

# The most inputs one Embed carries; the service sends a longer batch in several.
MAX_EMBED_INPUTS = 2048


class Embed(msgspec.Struct, tag="embed", frozen=True):
    """Vectors for a batch of inputs: texts (tokenized by the model) or token IDs, never both.
    ``truncate``: an input longer than the context is cut to it; otherwise the request fails.
    ``normalize``: each vector scaled to unit length (OpenAI's and Ollama's /api/embed are)."""

    request_id: int
    texts: list[str] = []
    tokens: list[list[int]] = []
    truncate: bool = True
    normalize: bool = True

    def __post_init__(self) -> None:
        count = len(self.texts) + len(self.tokens)
        if self.texts and self.tokens:
            raise BadRequest("an embedding request carries texts or token IDs, not both")
        if count > MAX_EMBED_INPUTS:
            raise BadRequest(f"at most {MAX_EMBED_INPUTS} inputs go in one embedding request, not {count}")

    @property
    def count(self) -> int:
        return len(self.texts) + len(self.tokens)


class Embedded(msgspec.Struct, tag="embedded", frozen=True):
    """The vectors of an ``Embed``, in its order: ``dimension`` float32 values each, little-endian,
    one after another in ``vectors``."""

    request_id: int
    dimension: int
    vectors: bytes
    prompt_tokens: int
    embed_s: float


EmbedRequest = LoadModel | Embed | Unload | Shutdown
EmbedEvent = Ready | Loaded | Embedded | Unloaded | Failure

_embed_request_decoder: msgspec.msgpack.Decoder[EmbedRequest] = msgspec.msgpack.Decoder(EmbedRequest)
_embed_event_decoder: msgspec.msgpack.Decoder[EmbedEvent] = msgspec.msgpack.Decoder(EmbedEvent)


def decode_embed_request(body: bytes) -> EmbedRequest:
    try:
        return _embed_request_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"bad request: {exc}") from None


def decode_embed_event(body: bytes) -> EmbedEvent:
    try:
        return _embed_event_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"bad event: {exc}") from None


def encode_embed(message: EmbedRequest | EmbedEvent) -> bytes:
    """One framed message to or from the embedding engine."""
    body = _encoder.encode(message)
    return _LEN.pack(len(body)) + body
