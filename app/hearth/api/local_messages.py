"""What the local API accepts and answers, op by op.

A request is a JSON object whose ``op`` names one of the request types below; its other fields are that
type's. An answer is ``{"ok": true, ...fields}`` or ``{"ok": false, "error": "..."}``. Fields are checked
strictly: ``"8"`` is not a number, ``true`` is not a count.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from hearth.core.planner import DeviceSpec
from hearth.service.device_view import DeviceView

Threads = Annotated[int, msgspec.Meta(ge=0, le=4096)]
Bytes = Annotated[int, msgspec.Meta(ge=0, le=2**60)]
Context = Annotated[int, msgspec.Meta(ge=0, le=2**24)]


class Request(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Status(Request):
    pass


class Devices(Request):
    pass


class Pair(Request):
    device: str  # name, ID prefix or host:port


class PairCode(Request):
    attempt: Annotated[int, msgspec.Meta(ge=1, le=2**31)]
    code: str


class Add(Request):
    address: str


class Forget(Request):
    device: str


class PlanRequest(Request):
    model: str
    plan: str | None = None
    n_ctx: Context | None = None  # None or 0: the model's context, at most the default


class Pool(PlanRequest):
    cache_type: str = "f16"


class PoolFailures(Request):
    pass


class PlanningDevicesRequest(Request):
    pass


class Donate(Request):
    enabled: bool
    max_memory: Bytes | None = None
    threads: Threads | None = None


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


class Failures(msgspec.Struct, frozen=True):
    failures: list[str]


def explain(exc: msgspec.ValidationError, kind: type[Request]) -> str:
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
