"""``hearth chat``'s own engine: what it asks the engine to load, alone or over reserved devices, and
whether it keeps the conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hearth.api.local_messages import PoolAnswer
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


def test_the_history_is_opened_only_when_kept(tiny_model: Path, hearth_home: Path) -> None:
    asyncio.run(SoloChat(str(tiny_model), 256, history=False).close())
    assert not (hearth_home / "conversations.sqlite3").exists()
    asyncio.run(SoloChat(str(tiny_model), 256).close())
    assert (hearth_home / "conversations.sqlite3").exists()
