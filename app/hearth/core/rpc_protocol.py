"""ggml's RPC protocol as this llama.cpp speaks it (protocol 7.0.0): commands and sizes.

A request is ``cmd u8 | size u64 | payload``; a reply is ``size u64 | payload``, and only some
commands have one (``ANSWERED``).
"""

from __future__ import annotations

from enum import IntEnum

VERSION = (7, 0, 0)
CONN_CAPS_SIZE = 24  # ggml-rpc transport.h; HELLO's request is the caps, its reply version(4) + caps
RPC_TENSOR_SIZE = 296
GGML_MAX_SRC = 10
# GET_ALLOC_SIZE's request: device u32, the tensor, then its sources (rpc_msg_get_alloc_size_req).
GET_ALLOC_SIZE_BYTES = 4 + RPC_TENSOR_SIZE * (1 + GGML_MAX_SRC)


class Cmd(IntEnum):
    ALLOC_BUFFER = 0
    GET_ALIGNMENT = 1
    GET_MAX_SIZE = 2
    BUFFER_GET_BASE = 3
    FREE_BUFFER = 4
    BUFFER_CLEAR = 5
    SET_TENSOR = 6
    SET_TENSOR_HASH = 7
    GET_TENSOR = 8
    COPY_TENSOR = 9
    GRAPH_COMPUTE = 10
    GET_DEVICE_MEMORY = 11
    INIT_TENSOR = 12
    GET_ALLOC_SIZE = 13
    HELLO = 14
    DEVICE_COUNT = 15
    GRAPH_RECOMPUTE = 16
    MEMSET_TENSOR = 17
    NONE = 18


CMD_COUNT = 19
# Commands the server answers (ggml-rpc.cpp, rpc_serve_client).
ANSWERED = frozenset(
    {
        Cmd.ALLOC_BUFFER,
        Cmd.GET_ALIGNMENT,
        Cmd.GET_MAX_SIZE,
        Cmd.BUFFER_GET_BASE,
        Cmd.SET_TENSOR_HASH,
        Cmd.GET_TENSOR,
        Cmd.COPY_TENSOR,
        Cmd.GET_DEVICE_MEMORY,
        Cmd.GET_ALLOC_SIZE,
        Cmd.HELLO,
        Cmd.DEVICE_COUNT,
    }
)
