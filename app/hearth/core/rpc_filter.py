"""What a worker's end of the tunnel lets through to its ggml RPC server (sans-I/O).

The RPC server trusts its client completely. The filter reads the client's command stream and the
server's replies as they pass and enforces the donation: allocations that would exceed the donated
memory are answered with a failed allocation instead of reaching the server, the free memory reported
is capped to what is left of the donation, and graphs that contain ops no llama model uses (custom ops
carry function pointers) end the connection. HELLO's transport capabilities are cleared both ways, so
neither end ever upgrades the connection to a transport (RDMA) that would bypass the tunnel.

Framing as in ``core.rpc_protocol``.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field

from hearth.core.errors import HearthError
from hearth.core.rpc_protocol import ANSWERED, CMD_COUNT, CONN_CAPS_SIZE, RPC_TENSOR_SIZE, Cmd

# Commands whose payload the filter must see whole; every other payload streams through.
INSPECTED = frozenset(
    {Cmd.ALLOC_BUFFER, Cmd.FREE_BUFFER, Cmd.GRAPH_COMPUTE, Cmd.GET_DEVICE_MEMORY, Cmd.HELLO}
)
# Replies the filter reads whole (and may rewrite) before passing them on.
INSPECTED_REPLIES = frozenset({Cmd.ALLOC_BUFFER, Cmd.GET_DEVICE_MEMORY, Cmd.HELLO})
MAX_INSPECTED_PAYLOAD = 256 * 1024 * 1024
RPC_TENSOR_OP_OFFSET = 52  # id u64, type u32, buffer u64, ne u32[4], nb u32[4], then op u32
_FAILED_ALLOC = struct.pack("<QQQ", 16, 0, 0)


class RpcViolation(HearthError):
    """The client broke the donation's rules; the connection must end."""


@dataclass
class _Reply:
    cmd: int
    synthetic: bytes = b""


@dataclass
class Ledger:
    """The donation shared by every connection of one reservation."""

    cap_bytes: int
    used_bytes: int = 0


@dataclass
class RpcFilter:
    """One connection's view. Callers serialise calls that share a ledger."""

    ledger: Ledger
    forbidden_ops: frozenset[int]
    buffers: dict[int, int] = field(default_factory=dict)
    pending_alloc: deque[int] = field(default_factory=deque)
    _replies: deque[_Reply] = field(default_factory=deque)
    _in: bytearray = field(default_factory=bytearray)
    _in_cmd: int | None = None
    _in_left: int = 0  # payload bytes still to stream through
    _out: bytearray = field(default_factory=bytearray)
    _out_left: int = 0
    _out_cmd: int | None = None

    # --- client -> server ---

    def from_client(self, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """Returns (bytes for the server, bytes for the client). Raises RpcViolation."""
        to_server = bytearray()
        to_client = bytearray()
        view = memoryview(data)
        while view:
            if self._in_left:
                n = min(self._in_left, len(view))
                to_server += view[:n]
                view = view[n:]
                self._in_left -= n
                continue
            self._in += view
            view = memoryview(b"")
            while True:
                if len(self._in) < 9:
                    break
                cmd = self._in[0]
                (size,) = struct.unpack_from("<Q", self._in, 1)
                if cmd >= CMD_COUNT:
                    raise RpcViolation(f"unknown RPC command {cmd}")
                if cmd in INSPECTED:
                    if size > MAX_INSPECTED_PAYLOAD:
                        raise RpcViolation(f"RPC command {cmd} with a {size}-byte payload")
                    if len(self._in) < 9 + size:
                        break
                    frame = bytes(self._in[: 9 + size])
                    del self._in[: 9 + size]
                    self._command(cmd, frame, to_server, to_client)
                    continue
                # Stream this command's payload through without holding it.
                if cmd in ANSWERED:
                    self._replies.append(_Reply(cmd))
                head = bytes(self._in[:9])
                body = bytes(self._in[9 : 9 + size])
                del self._in[: 9 + len(body)]
                to_server += head + body
                self._in_left = size - len(body)
                if self._in_left:
                    rest = bytes(self._in)
                    self._in.clear()
                    out_server, out_client = self.from_client(rest)
                    to_server += out_server
                    to_client += out_client
                    return bytes(to_server), bytes(to_client)
        return bytes(to_server), bytes(to_client)

    def _command(self, cmd: int, frame: bytes, to_server: bytearray, to_client: bytearray) -> None:
        payload = frame[9:]
        if cmd == Cmd.ALLOC_BUFFER:
            if len(payload) != 12:
                raise RpcViolation("malformed ALLOC_BUFFER")
            _device, size = struct.unpack("<IQ", payload)
            if self.ledger.used_bytes + sum(self.pending_alloc) + size > self.ledger.cap_bytes:
                # Answer for the server: a null buffer, which llama.cpp reports as a failed allocation.
                self._replies.append(_Reply(cmd, _FAILED_ALLOC))
                to_client += self._drain_synthetic()
                return
            self.pending_alloc.append(size)
        elif cmd == Cmd.FREE_BUFFER:
            if len(payload) != 8:
                raise RpcViolation("malformed FREE_BUFFER")
            (ptr,) = struct.unpack("<Q", payload)
            self.ledger.used_bytes -= self.buffers.pop(ptr, 0)
        elif cmd == Cmd.GRAPH_COMPUTE:
            self._check_graph(payload)
        elif cmd == Cmd.HELLO:
            if len(payload) != CONN_CAPS_SIZE:
                raise RpcViolation("malformed HELLO")
            frame = frame[:9] + bytes(CONN_CAPS_SIZE)
        if cmd in ANSWERED:
            self._replies.append(_Reply(cmd))
        to_server += frame

    def _check_graph(self, payload: bytes) -> None:
        if len(payload) < 8:
            raise RpcViolation("malformed GRAPH_COMPUTE")
        (n_nodes,) = struct.unpack_from("<I", payload, 4)
        offset = 8 + 8 * n_nodes
        if len(payload) < offset + 4:
            raise RpcViolation("malformed GRAPH_COMPUTE")
        (n_tensors,) = struct.unpack_from("<I", payload, offset)
        offset += 4
        if len(payload) < offset + n_tensors * RPC_TENSOR_SIZE:
            raise RpcViolation("malformed GRAPH_COMPUTE")
        for i in range(n_tensors):
            (op,) = struct.unpack_from("<I", payload, offset + i * RPC_TENSOR_SIZE + RPC_TENSOR_OP_OFFSET)
            if op in self.forbidden_ops:
                raise RpcViolation(f"graph uses op {op}, which no llama model needs")

    # --- server -> client ---

    def from_server(self, data: bytes | memoryview) -> bytes | memoryview:
        """Bytes for the client; replies to inspected commands are read and possibly rewritten."""
        out = bytearray(self._drain_synthetic())
        view = memoryview(data)
        while view:
            if self._out_left:
                n = min(self._out_left, len(view))
                out += view[:n]
                view = view[n:]
                self._out_left -= n
                if not self._out_left:
                    out += self._drain_synthetic()
                continue
            self._out += view
            view = memoryview(b"")
            while len(self._out) >= 8:
                if not self._replies:
                    raise RpcViolation("the RPC server answered a command that has no answer")
                (size,) = struct.unpack_from("<Q", self._out, 0)
                cmd = self._replies[0].cmd
                if cmd in INSPECTED_REPLIES:
                    if len(self._out) < 8 + size:
                        break
                    frame = bytes(self._out[: 8 + size])
                    del self._out[: 8 + size]
                    self._replies.popleft()
                    out += self._reply(cmd, frame)
                    out += self._drain_synthetic()
                    continue
                self._replies.popleft()
                body = bytes(self._out[8 : 8 + size])
                out += self._out[:8] + body
                del self._out[: 8 + len(body)]
                self._out_left = size - len(body)
                if self._out_left:
                    rest = bytes(self._out)
                    self._out.clear()
                    return bytes(out) + self.from_server(rest)
                out += self._drain_synthetic()
        return bytes(out)

    def _reply(self, cmd: int, frame: bytes) -> bytes:
        if cmd == Cmd.ALLOC_BUFFER and len(frame) == 24:
            _, ptr, size = struct.unpack("<QQQ", frame)
            self.pending_alloc.popleft()
            if ptr:
                self.buffers[ptr] = size
                self.ledger.used_bytes += size
            return frame
        if cmd == Cmd.HELLO:
            if len(frame) != 8 + 4 + CONN_CAPS_SIZE:
                raise RpcViolation("malformed HELLO reply")
            return frame[:12] + bytes(CONN_CAPS_SIZE)
        if cmd == Cmd.GET_DEVICE_MEMORY and len(frame) == 24:
            _, free, total = struct.unpack("<QQQ", frame)
            cap = self.ledger.cap_bytes
            left = max(0, cap - self.ledger.used_bytes)
            return struct.pack("<QQQ", 16, min(free, left), min(total, cap))
        return frame

    def close(self) -> None:
        """The connection ended: the server frees its buffers, and so does the ledger."""
        self.ledger.used_bytes -= sum(self.buffers.values())
        self.buffers.clear()

    def _drain_synthetic(self) -> bytes:
        out = bytearray()
        while self._replies and self._replies[0].synthetic and not self._out_left:
            out += self._replies.popleft().synthetic
        return bytes(out)
