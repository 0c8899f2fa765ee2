"""Messages between a client and the engine process, and their framing on a byte stream.

Frames are a 4-byte big-endian length and a MessagePack body. Decoding is strict: an unknown tag, a
missing field or a wrong type raises ``ProtocolError``, so a corrupt stream is never half-understood.
"""

from __future__ import annotations

import struct

import msgspec

from hearth.core.errors import HearthError

MAX_FRAME = 16 * 1024 * 1024
_LEN = struct.Struct(">I")


class ProtocolError(HearthError, ValueError):
    """A frame that is too large or does not decode into a known message."""


class ChatMessage(msgspec.Struct, frozen=True):
    role: str
    content: str


# --- requests (client -> engine) ---


class LoadModel(msgspec.Struct, tag="load", frozen=True):
    path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int = 512
    cache_type: str = "f16"
    # None: on exactly when the cache type is quantized, which llama.cpp requires for a quantized V cache.
    flash_attn: bool | None = None
    n_gpu_layers: int = 0
    use_mmap: bool = True
    # Pooling: RPC servers (127.0.0.1:port, through Hearth's tunnel) in pipeline order, and the split.
    rpc_servers: list[str] = []
    tensor_split: list[float] | None = None
    # "llama": llama.cpp, a GGUF here or spread over devices; "mlx": mlx-lm, an MLX folder on this device.
    backend: str = "llama"


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
    ``load.rpc_servers`` is not used: the engine stands in for ``remote_devices`` devices itself."""

    load: LoadModel
    remote_devices: int = 0


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


class Unloaded(msgspec.Struct, tag="unloaded", frozen=True):
    pass


class Token(msgspec.Struct, tag="token", frozen=True):
    request_id: int
    id: int
    text: str


class Done(msgspec.Struct, tag="done", frozen=True):
    request_id: int
    reason: str  # "stop", "length", "context" or "cancelled"
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    decode_s: float

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens per second after the first token (the first one carries the prompt's cost)."""
        return (
            (self.completion_tokens - 1) / self.decode_s
            if self.completion_tokens > 1 and self.decode_s
            else 0.0
        )


class Failure(msgspec.Struct, tag="error", frozen=True):
    message: str
    request_id: int | None = None
    kind: str = ""  # "context": the prompt does not fit the context (the request, not the engine, is wrong)


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
