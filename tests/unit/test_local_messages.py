"""The local API's requests are checked strictly and refused with a sentence that names the field."""

from __future__ import annotations

import msgspec
import pytest

from hearth.api import local_messages as msg
from hearth.api.local import _OPS


@pytest.mark.parametrize(
    ("kind", "fields", "said"),
    [
        (msg.Donate, {"enabled": True, "threads": True}, "threads must be a whole number from 0 to 4096"),
        (msg.Donate, {"enabled": True, "threads": "8"}, "threads must be a whole number from 0 to 4096"),
        (msg.Donate, {"enabled": True, "max_memory": -1}, "max_memory must be a whole number from 0 to"),
        (msg.Donate, {"enabled": True, "max_memory": float("inf")}, "max_memory must be a whole number"),
        (msg.Donate, {"enabled": "yes"}, "enabled: Expected `bool`, got `str`"),
        (msg.Pool, {"plan": "host:0-3"}, "the request lacks 'model'"),
        (msg.Pool, {"model": "m.gguf", "n_ctx": 2**30}, "n_ctx must be a whole number from 0 to 16777216"),
        (msg.Forget, {"device": "beta", "force": True}, "unknown field 'force'"),
        (msg.PairCode, {"attempt": "1", "code": "123456"}, "attempt must be a whole number from 1 to"),
        (msg.PairCode, {"attempt": 2**64, "code": "123456"}, "attempt must be a whole number from 1 to"),
        (msg.PairCode, {"attempt": 1, "code": 123456}, "code: Expected `str`, got `int`"),
    ],
)
def test_a_bad_field_is_refused_by_name(kind: type[msg.Request], fields: dict, said: str) -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.convert(fields, kind, strict=True)
    assert msg.explain(info.value, kind).startswith(said), msg.explain(info.value, kind)


def test_good_requests_decode_to_their_types() -> None:
    pool = msgspec.convert({"model": "m.gguf", "plan": None, "n_ctx": 256}, msg.Pool, strict=True)
    assert (pool.model, pool.plan, pool.n_ctx, pool.cache_type) == ("m.gguf", None, 256, "f16")
    donate = msgspec.convert({"enabled": False}, msg.Donate, strict=True)
    assert donate == msg.Donate(enabled=False)


def test_every_op_has_a_request_type_and_a_handler() -> None:
    assert set(_OPS) == {
        "status",
        "devices",
        "pair",
        "pair_code",
        "add",
        "forget",
        "plan",
        "pool",
        "pool_failures",
        "donate",
        "planning_devices",
    }
    for kind, handler in _OPS.values():
        assert issubclass(kind, msg.Request) and callable(handler)
