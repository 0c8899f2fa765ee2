"""The local API's requests are checked strictly and refused with a sentence that names the field."""

from __future__ import annotations

import asyncio
import json
from typing import get_type_hints

import msgspec
import pytest

from hearth.api import local_messages as msg
from hearth.api.local import _OPS, LocalApiError, LocalClient, parse_request
from hearth.service.planning import PlanReport
from hearth.service.status import NodeStatus


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


def test_each_op_is_answered_with_the_type_its_handler_builds() -> None:
    # The client decodes into the request's type parameter; the node answers with what its handler
    # returns: the two must be one type for every op.
    for kind, handler in _OPS.values():
        assert get_type_hints(handler)["return"] is msg.answer_type(kind), kind
    assert msg.answer_type(msg.Pool) is msg.PoolAnswer
    assert msg.answer_type(msg.PlanRequest) is PlanReport
    assert msg.answer_type(msg.Status) is NodeStatus


def test_a_request_type_without_an_answer_is_refused() -> None:
    class Bare(msg.Request):
        op = "bare"

    with pytest.raises(TypeError, match="Bare does not say what answers it"):
        msg.answer_type(Bare)


@pytest.mark.parametrize(
    "request_",
    [
        msg.Status(),
        msg.Pool(model="m.gguf", n_ctx=256),
        msg.PlanRequest(model="m.gguf", plan="host:0-3"),
        msg.Donate(enabled=True, threads=4),
        msg.PairCode(attempt=3, code="123456"),
    ],
)
def test_a_request_is_sent_as_the_node_reads_it(request_: msg.Request) -> None:
    sent = parse_request(msg.encode(request_))
    assert isinstance(sent, dict)
    kind, _ = _OPS[sent.pop("op")]
    assert msgspec.convert(sent, kind, strict=True) == request_


class FakeSocket:
    """The node's end of a connection: records what the client sends, answers with ``answer``."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer
        self.sent: list[str] = []

    async def send(self, data: str) -> None:
        self.sent.append(data)

    async def recv(self) -> str:
        return json.dumps(self.answer)


def _ask(answer: dict, request: msg.Request) -> tuple[object, list[str]]:
    ws = FakeSocket(answer)
    client = LocalClient(ws)  # type: ignore[arg-type]
    return asyncio.run(client.call(request)), ws.sent


def test_the_client_decodes_an_answer_into_its_type() -> None:
    answer = {"ok": True, "plan": "host:0-3,beta:4-7", "endpoints": ["127.0.0.1:5001"], "devices": ["beta"]}
    pool, sent = _ask({**answer, "n_gpu_layers": 99, "tensor_split": [4.0, 4.0]}, msg.Pool(model="m.gguf"))
    assert pool == msg.PoolAnswer("host:0-3,beta:4-7", ["127.0.0.1:5001"], ["beta"], 99, [4.0, 4.0])
    assert json.loads(sent[0])["op"] == "pool"
    report, _ = _ask(
        {"ok": True, "plan": "host:0-7", "tokens_per_s": 12, "devices": [], "left_out": {"beta": "busy"}},
        msg.PlanRequest(model="m.gguf"),
    )
    assert isinstance(report, PlanReport)
    assert (report.tokens_per_s, report.left_out, report.sized_by_llama) == (12.0, {"beta": "busy"}, False)


def test_the_client_raises_the_nodes_refusal_and_a_malformed_answer() -> None:
    with pytest.raises(LocalApiError) as refused:
        _ask({"ok": False, "error": "no paired device called 'beta'"}, msg.Forget(device="beta"))
    assert str(refused.value) == "no paired device called 'beta'"
    with pytest.raises(LocalApiError, match="the node's answer to 'forget' is malformed"):
        _ask({"ok": True, "device_id": 7}, msg.Forget(device="beta"))
