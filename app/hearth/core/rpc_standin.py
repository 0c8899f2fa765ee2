"""A stand-in for a remote device during llama.cpp's dry run (sans-I/O).

llama.cpp can load a model without allocating anything (``no_alloc``): it builds the graphs it
reserves for and reports every buffer it would allocate, per device. To do that over RPC devices it
only asks them questions (the protocol version, the device count, alignment, largest buffer, free
memory); it never sends a tensor's data or a graph. A stand-in answers those questions as a CPU
worker would, so the host can learn what each device of a plan would hold before any device is
reserved. Every answer is made up: a stand-in has no memory, runs nothing and reads nothing, so
reaching one reveals nothing.

Framing as in ``core.rpc_protocol``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hearth.core.errors import HearthError
from hearth.core.rpc_protocol import CMD_COUNT, CONN_CAPS_SIZE, RPC_TENSOR_SIZE, VERSION, Cmd

MAX_PAYLOAD = 64 * 1024 * 1024  # a dry run sends metadata only; anything this large is not one
_U64 = struct.Struct("<Q")


class StandInError(HearthError):
    """A client sent something that is not ggml RPC; the connection ends."""


@dataclass
class StandIn:
    """One connection's state. ``alignment`` and ``max_size`` are what the device's buffers would
    have (a CPU worker's by default); ``memory`` what it would report as free and total."""

    alignment: int = 32
    max_size: int = (1 << 64) - 1
    memory: int = 1 << 40
    _buffer: bytearray = field(default_factory=bytearray)
    _next_buffer: int = 0x1000

    def receive(self, data: bytes) -> bytes:
        """Bytes from the client in; the replies that are due out."""
        self._buffer += data
        out = bytearray()
        while len(self._buffer) >= 9:
            cmd = self._buffer[0]
            (size,) = _U64.unpack_from(self._buffer, 1)
            if cmd >= CMD_COUNT or size > MAX_PAYLOAD:
                raise StandInError(f"not a ggml RPC request (command {cmd}, {size} bytes)")
            if len(self._buffer) < 9 + size:
                break
            payload = bytes(self._buffer[9 : 9 + size])
            del self._buffer[: 9 + size]
            reply = self._answer(cmd, payload)
            if reply is not None:
                out += _U64.pack(len(reply)) + reply
        return bytes(out)

    def _answer(self, cmd: int, payload: bytes) -> bytes | None:
        if cmd == Cmd.HELLO:
            return bytes([*VERSION, 0]) + bytes(CONN_CAPS_SIZE)
        if cmd == Cmd.DEVICE_COUNT:
            return struct.pack("<I", 1)
        if cmd == Cmd.GET_ALIGNMENT:
            return _U64.pack(self.alignment)
        if cmd == Cmd.GET_MAX_SIZE:
            return _U64.pack(self.max_size)
        if cmd == Cmd.GET_DEVICE_MEMORY:
            return struct.pack("<QQ", self.memory, self.memory)
        if cmd == Cmd.GET_ALLOC_SIZE:
            # Zero: the client then uses the tensor's own size, which is what a CPU buffer needs.
            return _U64.pack(0)
        if cmd == Cmd.ALLOC_BUFFER:
            _device, size = struct.unpack_from("<IQ", payload) if len(payload) >= 12 else (0, 0)
            handle = self._next_buffer
            self._next_buffer += 0x1000
            return struct.pack("<QQ", handle, size)
        if cmd == Cmd.BUFFER_GET_BASE:
            return payload[:8].ljust(8, b"\0")
        if cmd in (Cmd.SET_TENSOR_HASH, Cmd.COPY_TENSOR):
            return b"\x01"
        if cmd == Cmd.GET_TENSOR:
            # rpc_tensor, offset u64, size u64: zeros of that size (a dry run never reads a tensor).
            offset = RPC_TENSOR_SIZE + 8
            (size,) = _U64.unpack_from(payload, offset) if len(payload) >= offset + 8 else (0,)
            if size > MAX_PAYLOAD:
                raise StandInError(f"a {size}-byte read from a stand-in device")
            return bytes(size)
        return None  # FREE_BUFFER, BUFFER_CLEAR, SET_TENSOR, INIT_TENSOR, GRAPH_*, MEMSET: no reply
