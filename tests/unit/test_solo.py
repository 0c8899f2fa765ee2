"""``hearth chat``'s own engine: what it asks the engine to load, alone or over reserved devices, and
whether it keeps the conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hearth.api.local_messages import PoolAnswer
from hearth.core.plan import parse_plan
from hearth.engine.errors import BadRequest
from hearth.engine.llama_runtime import spread_split
from hearth.service.solo import SoloChat


def test_alone_the_model_loads_as_the_command_says(tiny_model: Path) -> None:
    chat = SoloChat(str(tiny_model), 512, threads=2, gpu_layers=-1, history=False)
    try:
        request = chat.request()
        assert (request.path, request.n_ctx, request.n_threads) == (str(tiny_model), 512, 2)
        assert (request.n_gpu_layers, request.rpc_servers, request.tensor_split) == (-1, [], None)
        assert request.backend == "llama"
    finally:
        asyncio.run(chat.close())


def test_pooled_the_reservation_places_the_layers(tiny_model: Path) -> None:
    chat = SoloChat(str(tiny_model), 256, gpu_layers=-1, history=False)
    reserved = PoolAnswer("host:0-3,beta:4-7", ["127.0.0.1:5001"], ["beta"], 99, [4.0, 4.0])
    try:
        request = chat.request(reserved)
        assert (request.n_gpu_layers, request.tensor_split) == (99, [4.0, 4.0])
        assert request.rpc_servers == ["127.0.0.1:5001"]
    finally:
        asyncio.run(chat.close())


def test_pooled_over_a_donors_gpu_and_cpu_each_range_names_its_device(tiny_model: Path) -> None:
    chat = SoloChat(str(tiny_model), 256, history=False)
    plan = parse_plan("host:0-1,beta/gpu0:2-4,beta:5-7", 8)
    n_gpu_layers, split = plan.llama_params()
    reserved = PoolAnswer(
        str(plan), ["127.0.0.1:5001"], ["beta"], n_gpu_layers, split, [], plan.rpc_targets()
    )
    try:
        request = chat.request(reserved)
        assert request.rpc_targets == [(0, 0), (0, -1)]
        # As the engine spreads it over the donor's two devices: 3 layers on its GPU, 3 and the output
        # layer on its CPU, none dropped or moved.
        assert spread_split(request.tensor_split, 0, [2], request.rpc_targets) == [3.0, 4.0]
        # A reservation of an older node, without targets, over a donor of two devices: refused, as it
        # cannot say which device takes which range.
        with pytest.raises(BadRequest, match="3 ranges for 0 GPUs here and 2 RPC servers"):
            spread_split([1.0, 3.0, 4.0], 0, [2, 3])
    finally:
        asyncio.run(chat.close())


def test_the_history_is_opened_only_when_kept(tiny_model: Path, hearth_home: Path) -> None:
    asyncio.run(SoloChat(str(tiny_model), 256, history=False).close())
    assert not (hearth_home / "conversations.sqlite3").exists()
    asyncio.run(SoloChat(str(tiny_model), 256).close())
    assert (hearth_home / "conversations.sqlite3").exists()
