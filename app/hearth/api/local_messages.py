"""What the local API accepts and answers, op by op.

A request is a JSON object whose ``op`` names one of the request types below; its other fields are that
type's. An answer is ``{"ok": true, ...fields}`` or ``{"ok": false, "error": "..."}``. Fields are checked
strictly: ``"8"`` is not a number, ``true`` is not a count.

Each request type names its op and, as its type parameter, the type of its answer: ``Request[A]`` is
answered with an ``A``. The node and its client both read the pairing from here, so a client decodes
every answer into the type the node built it from.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Generic, TypeVar, cast, get_args, get_origin

import msgspec

from hearth.core.planner import DeviceSpec
from hearth.service.device_view import DeviceView
from hearth.service.planning import PlanReport
from hearth.service.status import DonationStatus, NodeStatus

Threads = Annotated[int, msgspec.Meta(ge=0, le=4096)]
Bytes = Annotated[int, msgspec.Meta(ge=0, le=2**60)]
Context = Annotated[int, msgspec.Meta(ge=0, le=2**24)]
A = TypeVar("A")


class DevicesAnswer(msgspec.Struct, frozen=True):
    devices: list[DeviceView]


class PairStarted(msgspec.Struct, frozen=True):
    attempt: int
    peer_name: str
    peer_id: str


class DeviceNamed(msgspec.Struct, frozen=True):
    device_id: str
    name: str


class PlanningDevices(msgspec.Struct, frozen=True):
    """The devices the planner may use now, named as plans name them: this one, then the others."""

    host: DeviceSpec
    remotes: list[DeviceSpec]


class PoolAnswer(msgspec.Struct, frozen=True):
    plan: str
    endpoints: list[str]  # llama.cpp's rpc_servers, in pipeline order
    devices: list[str]
    n_gpu_layers: int
    tensor_split: list[float] | None  # None: no split (the plan keeps every layer here)
    host_gpus: list[int] = []  # this machine's accelerators the plan uses, before the endpoints
    # Which device of which endpoint takes each range after this machine's GPUs (``LoadModel.rpc_targets``).
    rpc_targets: list[tuple[int, int]] = []


class Failures(msgspec.Struct, frozen=True):
    failures: list[str]


class Request(msgspec.Struct, Generic[A], forbid_unknown_fields=True):
    """A request answered with an ``A``."""

    op: ClassVar[str]


class Status(Request[NodeStatus]):
    op = "status"


class Devices(Request[DevicesAnswer]):
    op = "devices"


class Pair(Request[PairStarted]):
    op = "pair"
    device: str  # name, ID prefix or host:port


class PairCode(Request[DeviceNamed]):
    op = "pair_code"
    attempt: Annotated[int, msgspec.Meta(ge=1, le=2**31)]
    code: str


class Add(Request[DeviceNamed]):
    op = "add"
    address: str


class Forget(Request[DeviceNamed]):
    op = "forget"
    device: str


class _ForModel(Request[A]):
    """A plan for a model: the one named, checked, or the planner's best."""

    model: str
    plan: str | None = None
    n_ctx: Context | None = None  # None or 0: the model's context, at most the default


class PlanRequest(_ForModel[PlanReport]):
    op = "plan"


class Pool(_ForModel[PoolAnswer]):
    """Reserve the plan's devices for this connection, for as long as it stays open."""

    op = "pool"
    cache_type: str = "f16"


class PoolFailures(Request[Failures]):
    op = "pool_failures"


class PlanningDevicesRequest(Request[PlanningDevices]):
    op = "planning_devices"


class Donate(Request[DonationStatus]):
    op = "donate"
    enabled: bool
    max_memory: Bytes | None = None
    threads: Threads | None = None
    max_vram: Bytes | None = None  # what each GPU lends; 0: its memory less headroom


def answer_type(kind: type[Request[A]]) -> type[A]:
    """The type ``kind`` is answered with: its ``Request[...]`` parameter, read from its bases."""
    for cls in kind.__mro__:
        for base in cls.__dict__.get("__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Request):
                (answer,) = get_args(base)
                if isinstance(answer, type) and issubclass(answer, msgspec.Struct):
                    return cast("type[A]", answer)
    raise TypeError(f"{kind.__name__} does not say what answers it")


def encode(request: Request[Any]) -> str:
    """A request as the node reads it: its op and its fields."""
    return msgspec.json.encode({"op": request.op, **msgspec.structs.asdict(request)}).decode()


def explain(exc: msgspec.ValidationError, kind: type[Request[Any]]) -> str:
    """A validation error as a sentence that names the field and what it must be."""
    text = str(exc)
    missing = re.match(r"Object missing required field `(\w+)`", text)
    if missing:
        return f"the request lacks {missing[1]!r}"
    unknown = re.match(r"Object contains unknown field `(\w+)`", text)
    if unknown:
        return f"unknown field {unknown[1]!r}"
    at = re.search(r"at `\$\.(\w+)`", text)
    if at:
        info = msgspec.inspect.type_info(kind)
        assert isinstance(info, msgspec.inspect.StructType)
        field = next((f for f in info.fields if f.name == at[1]), None)
        if field is not None:
            for t in _members(field.type):
                if isinstance(t, msgspec.inspect.IntType) and t.ge is not None and t.le is not None:
                    return f"{field.name} must be a whole number from {t.ge} to {t.le}"
        return f"{at[1]}: {text.split(' - at ')[0]}"
    return text


def _members(t: msgspec.inspect.Type) -> tuple[msgspec.inspect.Type, ...]:
    return t.types if isinstance(t, msgspec.inspect.UnionType) else (t,)
