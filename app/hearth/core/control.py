"""The control channel's messages and its per-connection state machine (sans-I/O).

A connection is only trusted after both sides' hellos: in TLS 1.3 a server that rejected the client's
certificate says so only at the client's first read, so the hello is the proof that the handshake held.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import msgspec

from hearth.core import wire
from hearth.core.names import clean_name

PROTOCOL_VERSION = 1
# Bad messages a connection may send in its whole life. Good ones in between do not wipe the count:
# a peer of the same protocol version has no reason to send any, and one that alternated good and bad
# messages would otherwise keep the node answering its errors forever.
MAX_BAD_MESSAGES = 5
CLOSE_VERSION = 4001
CLOSE_POLICY = 1008


class Hello(msgspec.Struct, tag="hello", frozen=True):
    protocol: int
    app_version: str
    llama_build: str
    device_id: str
    name: str


class ComputeDevice(msgspec.Struct, frozen=True):
    """One device llama.cpp computes on, as ggml reports it (``ggml_backend_dev_memory``)."""

    kind: str  # "GPU", "IGPU" (integrated: its memory is the RAM), "CPU"
    name: str  # ggml's: "CUDA0", "Vulkan0", "Metal", "CPU"
    description: str  # the product: "NVIDIA GeForce RTX 3060"
    memory_total: int
    memory_free: int
    # An accelerator's own speed probe (``core.speed``), layers on it alone; 0: not probed (older
    # versions, or not yet), and the planner assumes a typical GPU's.
    bytes_per_s: float = 0.0
    layer_s: float = 0.0

    @property
    def accelerator(self) -> bool:
        return self.kind in ("GPU", "IGPU")

    @property
    def shares_ram(self) -> bool:
        """An integrated GPU, or Apple Silicon's: its memory is the RAM, to be counted once."""
        return self.kind == "IGPU" or self.name.startswith(("Metal", "MTL"))


class Offer(msgspec.Struct, frozen=True):
    """The model a device answers other devices' requests with, while its user allows it."""

    model: str  # as the APIs name it
    size: int  # the file's bytes: the same name and size are taken for the same weights
    n_ctx: int
    at_once: int  # answers it gives together
    answering: int
    waiting: int
    # False: a model of its library that it would load for the request, having nothing loaded now.
    loaded: bool = True

    @property
    def free(self) -> int:
        """Places an answer could take now, without waiting."""
        return 0 if self.waiting else max(0, self.at_once - self.answering)


class Telemetry(msgspec.Struct, tag="telemetry", frozen=True):
    time: float
    memory_total: int
    memory_free: int
    donated_bytes: int
    cpu_count: int
    cpu_percent: float
    accelerator: str
    backends: list[str]
    gpu_percent: float | None = None
    bytes_per_s: float = 0.0  # decode speed from this device's probe; 0: not measured yet
    layer_s: float = (
        0.0  # what each layer costs there beyond its weights (``core.speed``); 0 from older versions
    )
    os: str = ""  # platform.system(): what a device added by address, unseen by mDNS, runs
    compute: list[ComputeDevice] = []  # its accelerators and its CPU; empty from older versions
    # While it donates: each device its workers serve, in their order (GPUs, then the CPU), with the
    # memory capped to what it lends there; empty otherwise and from older versions.
    served: list[ComputeDevice] = []
    answers: Offer | None = None  # None: it takes no other device's requests now
    # While it has nothing loaded and its user allows it: the models it would load for a request.
    loadable: list[Offer] = []


class Error(msgspec.Struct, tag="error", frozen=True):
    code: str
    message: str


class Reserve(msgspec.Struct, tag="reserve", frozen=True):
    """A host asks a donating device for a worker."""

    request_id: int
    memory_bytes: int  # what the plan's range on its CPU needs (with any GPU of its that shares the RAM)
    threads: int
    llama_build: str
    # What the plan's ranges on its accelerators need, by their index among them (the order its
    # worker serves them in); empty from older versions, which plan a donor's layers on one device.
    accelerator_bytes: dict[int, int] = {}


class Reserved(msgspec.Struct, tag="reserved", frozen=True):
    request_id: int
    reservation: str
    ticket: bytes
    tunnel_port: int


class Refused(msgspec.Struct, tag="refused", frozen=True):
    request_id: int
    reason: str


class Release(msgspec.Struct, tag="release", frozen=True):
    reservation: str


class WorkerLost(msgspec.Struct, tag="worker_lost", frozen=True):
    """The worker behind a reservation is gone (it crashed, or donation was switched off)."""

    reservation: str
    reason: str


class Ask(msgspec.Struct, tag="ask", frozen=True):
    """A host asks a device that offers ``model`` to answer one of its apps' requests."""

    request_id: int
    model: str
    size: int
    generate: msgspec.Raw  # the engine's request, as the engine encodes it
    # The host's own context for this model: a device that loads it for the request loads at least
    # as long a context (within the model's own); 0: the default.
    n_ctx: int = 0
    # The host reads ``Working`` (a version before it would count one as a malformed message).
    working: bool = False


class Taken(msgspec.Struct, tag="taken", frozen=True):
    """The device asked has a place for the answer and begins it."""

    request_id: int
    # It will say ``Working`` while the answer is under way (a version before it never does).
    working: bool = False


class Told(msgspec.Struct, tag="told", frozen=True):
    """One token of an answer asked for."""

    request_id: int
    token: msgspec.Raw


class Working(msgspec.Struct, tag="working", frozen=True):
    """The answer taken is still under way (sent every few seconds, tokens or not): while the device
    reads a long prompt, the host can tell a device at work from one that went quiet."""

    request_id: int


class Answered(msgspec.Struct, tag="answered", frozen=True):
    request_id: int
    done: msgspec.Raw
    # The device's offer once this answer has left its place: fresher than its next telemetry.
    offer: Offer | None = None


class NotAnswered(msgspec.Struct, tag="not_answered", frozen=True):
    """The answer was refused (nothing was said: the host answers it elsewhere) or failed."""

    request_id: int
    reason: str
    refused: bool
    kind: str = ""  # the engine's kind of failure ("request", "context"), so the host says it alike


class StopAsking(msgspec.Struct, tag="stop_asking", frozen=True):
    """The host's app left: the answer is no longer wanted."""

    request_id: int


ControlMessage = (
    Hello
    | Telemetry
    | Error
    | Reserve
    | Reserved
    | Refused
    | Release
    | WorkerLost
    | Ask
    | Taken
    | Told
    | Working
    | Answered
    | NotAnswered
    | StopAsking
)
AskMessage = Ask | Taken | Told | Working | Answered | NotAnswered | StopAsking
_decoder: msgspec.json.Decoder[ControlMessage] = wire.decoder(ControlMessage)


def decode(data: str | bytes) -> ControlMessage:
    return wire.decode(_decoder, data)


class State(Enum):
    AWAIT_HELLO = "await_hello"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Send:
    message: ControlMessage


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


@dataclass(frozen=True)
class Deliver:
    message: ControlMessage


Action = Send | Close | Deliver


class ControlSession:
    """One side of one control connection: feed it what arrives, do what it returns."""

    def __init__(self, hello: Hello, expected_peer: str) -> None:
        self.hello = hello
        self.expected_peer = expected_peer
        self.state = State.AWAIT_HELLO
        self.peer: Hello | None = None
        self.bad_messages = 0  # over the connection's life: never reset

    def opening(self) -> Send:
        return Send(self.hello)

    def receive(self, data: str | bytes) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        try:
            message = decode(data)
        except wire.WireError as exc:
            return self._bad("malformed", f"malformed message: {exc}")
        if self.state is State.AWAIT_HELLO:
            if not isinstance(message, Hello):
                return self._close(CLOSE_POLICY, f"expected hello, got {type(message).__name__.lower()}")
            if message.protocol != self.hello.protocol:
                reason = (
                    f"protocol version mismatch: this device speaks {self.hello.protocol} "
                    f"(Hearth {self.hello.app_version}), the other {message.protocol} "
                    f"(Hearth {message.app_version})"
                )
                return [Send(Error("version", reason)), *self._close(CLOSE_VERSION, reason)]
            if message.device_id != self.expected_peer:
                return self._close(CLOSE_POLICY, "hello names another device than its certificate")
            self.peer = msgspec.structs.replace(message, name=clean_name(message.name))
            self.state = State.OPEN
            return [Deliver(self.peer)]
        if isinstance(message, Hello):
            return self._bad("out_of_order", "hello was already exchanged")
        return [Deliver(message)]

    def _bad(self, code: str, text: str) -> list[Action]:
        self.bad_messages += 1
        if self.state is State.AWAIT_HELLO or self.bad_messages >= MAX_BAD_MESSAGES:
            return [Send(Error(code, text)), *self._close(CLOSE_POLICY, f"too many bad messages ({text})")]
        return [Send(Error(code, text))]

    def _close(self, code: int, reason: str) -> list[Action]:
        self.state = State.CLOSED
        # A close frame holds at most 123 bytes of reason.
        return [Close(code, reason.encode()[:120].decode(errors="ignore"))]
