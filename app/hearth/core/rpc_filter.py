"""What a worker's end of the tunnel lets through to its ggml RPC server (sans-I/O).

The RPC server trusts its client completely. The filter reads the client's command stream and the
server's replies as they pass and enforces the donation: allocations that would exceed the donated
memory are answered with a failed allocation instead of reaching the server, the free memory reported
is capped to what is left of the donation, and every graph is checked as ggml would have built it
(``core.rpc_graph``: only the ops llama.cpp's graphs use, each node's shape as its op makes it, every
tensor inside a buffer of this connection); a graph that fails ends the connection. Commands are
held to their sizes before their payload is read, so the server never allocates for a command it
will not get. HELLO's transport capabilities are cleared both ways, so neither end ever upgrades the
connection to a transport (RDMA) that would bypass the tunnel.

Framing as in ``core.rpc_protocol``.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field

from hearth.core.rpc_graph import MAX_GRAPH_BYTES, Graph, GraphRules, check_graph
from hearth.core.rpc_graph import RpcViolation as RpcViolation
from hearth.core.rpc_protocol import ANSWERED, CMD_COUNT, CONN_CAPS_SIZE, RPC_TENSOR_SIZE, Cmd

# Commands whose payload the filter must see whole, with the most it may be (ggml-rpc.cpp's request
# structs); every other payload streams through.
INSPECTED: dict[int, int] = {
    Cmd.ALLOC_BUFFER: 12,  # device u32, size u64
    Cmd.BUFFER_GET_BASE: 8,  # buffer u64
    Cmd.FREE_BUFFER: 8,
    Cmd.GRAPH_COMPUTE: MAX_GRAPH_BYTES,
    Cmd.GET_DEVICE_MEMORY: 4,  # device u32
    Cmd.HELLO: CONN_CAPS_SIZE,
}
# Replies the filter reads whole (and may rewrite) before passing them on.
INSPECTED_REPLIES = frozenset({Cmd.ALLOC_BUFFER, Cmd.BUFFER_GET_BASE, Cmd.GET_DEVICE_MEMORY, Cmd.HELLO})
# SET_TENSOR: rpc_tensor, cache flag u8, offset u64, then the data, which fits in one buffer.
SET_TENSOR_HEADER = RPC_TENSOR_SIZE + 1 + 8
_FAILED_ALLOC = struct.pack("<QQQ", 16, 0, 0)


@dataclass
class _Reply:
    cmd: int
    synthetic: bytes = b""
    buffer: int = 0  # BUFFER_GET_BASE: the buffer asked about


@dataclass
class Ledger:
    """The donation shared by every connection of one reservation."""

    cap_bytes: int
    used_bytes: int = 0


@dataclass
class RpcFilter:
    """One connection's view. Callers serialise calls that share a ledger."""

    ledger: Ledger
    rules: GraphRules
    buffers: dict[int, int] = field(default_factory=dict)  # handle -> size, as the server allocated
    bases: dict[int, int] = field(default_factory=dict)  # handle -> address, as the server said
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
                limit = INSPECTED.get(cmd)
                if limit is not None:
                    # Refused on its declared length, before anything that long is held or sent on.
                    if size > limit:
                        raise RpcViolation(f"a {size}-byte {Cmd(cmd).name} (at most {limit})")
                    if len(self._in) < 9 + size:
                        break
                    frame = bytes(self._in[: 9 + size])
                    del self._in[: 9 + size]
                    self._command(cmd, frame, to_server, to_client)
                    continue
                # Stream this command's payload through without holding it.
                if cmd == Cmd.SET_TENSOR and size > SET_TENSOR_HEADER + max(self.buffers.values(), default=0):
                    # The server holds a whole SET_TENSOR before it looks at it.
                    raise RpcViolation(f"a {size}-byte SET_TENSOR, larger than any buffer it could fill")
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
            self.bases.pop(ptr, None)
        elif cmd == Cmd.BUFFER_GET_BASE:
            if len(payload) != 8:
                raise RpcViolation("malformed BUFFER_GET_BASE")
            (ptr,) = struct.unpack("<Q", payload)
            self._replies.append(_Reply(cmd, buffer=ptr))
            to_server += frame
            return
        elif cmd == Cmd.GRAPH_COMPUTE:
            self.check_graph(payload)
        elif cmd == Cmd.HELLO:
            if len(payload) != CONN_CAPS_SIZE:
                raise RpcViolation("malformed HELLO")
            frame = frame[:9] + bytes(CONN_CAPS_SIZE)
        if cmd in ANSWERED:
            self._replies.append(_Reply(cmd))
        to_server += frame

    def check_graph(self, payload: bytes) -> Graph:
        """Check a GRAPH_COMPUTE's payload against the rules and this connection's buffers; raises
        RpcViolation. Only buffers whose base the client asked for can hold its tensors: that is how
        llama.cpp learns where its tensors are, and what the filter needs to place them."""
        spans = {ptr: (base, self.buffers[ptr]) for ptr, base in self.bases.items() if ptr in self.buffers}
        return check_graph(payload, self.rules, spans)

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
                    out += self._reply(cmd, frame, self._replies.popleft())
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

    def _reply(self, cmd: int, frame: bytes, asked: _Reply) -> bytes:
        if cmd == Cmd.BUFFER_GET_BASE and len(frame) == 16:
            (base,) = struct.unpack_from("<Q", frame, 8)
            if asked.buffer in self.buffers:
                self.bases[asked.buffer] = base
            return frame
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

    def awaiting_server(self) -> bool:
        """Whether the server owes the client an answer, or the rest of one. Most commands have no
        answer (a graph is computed and its output fetched later), so bytes sent are not enough."""
        return bool(self._out_left) or any(not r.synthetic for r in self._replies)

    def close(self) -> None:
        """The connection ended: the server frees its buffers, and so does the ledger."""
        self.ledger.used_bytes -= sum(self.buffers.values())
        self.buffers.clear()
        self.bases.clear()

    def _drain_synthetic(self) -> bytes:
        out = bytearray()
        while self._replies and self._replies[0].synthetic and not self._out_left:
            out += self._replies.popleft().synthetic
        return bytes(out)
